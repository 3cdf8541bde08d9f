// This module is browser compatible.
/**
 * Progress of one stream, as the issue names its fields, reported at most every `intervalMs`
 * (plus one last report when the stream completes, so a progress bar reaches 100 %).
 *
 * @module
 */
import type { Clock } from "../util/clock.ts";

/** One progress report. */
export interface StreamProgress {
  /** Bytes transferred so far (sent by the sender, received by the receiver). */
  bytes: number;
  /** The announced total, when there is one. */
  total?: number;
  /** `100 × bytes / total`, when the total is known. */
  percentage?: number;
  /** Recent throughput (smoothed over the reports). */
  bytesPerSecond: number;
  /** Time left at the recent throughput, when the total is known and bytes flow. */
  etaMs?: number;
}

/** Counts bytes and calls `report` at most every `intervalMs` of the clock. */
export class ProgressMeter {
  readonly #clock: Clock;
  readonly #report: (progress: StreamProgress) => void;
  readonly #intervalMs: number;
  readonly #total: number | undefined;
  readonly #start: number;
  #bytes = 0;
  #lastAt: number;
  #lastBytes = 0;
  #rate = 0;

  /** Starts measuring now. */
  constructor(
    clock: Clock,
    report: (progress: StreamProgress) => void,
    intervalMs: number,
    total: number | undefined,
  ) {
    this.#clock = clock;
    this.#report = report;
    this.#intervalMs = intervalMs;
    this.#total = total;
    this.#start = this.#lastAt = clock.now();
  }

  /** Sets the byte count (it may go back after a resume); reports if `intervalMs` has passed. */
  set(bytes: number): void {
    this.#bytes = bytes;
    if (this.#clock.now() - this.#lastAt >= this.#intervalMs) this.#emit();
  }

  /** Reports now, whatever the interval (the stream completed). */
  finish(): void {
    this.#emit();
  }

  #emit(): void {
    const now = this.#clock.now();
    const elapsed = now - this.#lastAt;
    if (elapsed > 0) {
      const recent = (Math.max(0, this.#bytes - this.#lastBytes) * 1000) / elapsed;
      // The first report has no history: take the average since the start.
      this.#rate = this.#lastAt === this.#start ? recent : 0.5 * this.#rate + 0.5 * recent;
    }
    this.#lastAt = now;
    this.#lastBytes = this.#bytes;
    const progress: StreamProgress = { bytes: this.#bytes, bytesPerSecond: Math.round(this.#rate) };
    const total = this.#total;
    if (total !== undefined) {
      progress.total = total;
      progress.percentage = total === 0 ? 100 : Math.min(100, (100 * this.#bytes) / total);
      if (this.#rate > 0) progress.etaMs = Math.round(((total - this.#bytes) * 1000) / this.#rate);
    }
    try {
      this.#report(progress);
    } catch {
      // a throwing progress callback must not break the transfer
    }
  }
}
