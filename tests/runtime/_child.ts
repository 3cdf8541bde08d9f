/**
 * A subprocess for cross-runtime tests: its output is collected as it arrives, lines can be
 * awaited with a bound, and `stop()` always ends it (SIGTERM, then SIGKILL).
 */
import { withTimeout } from "../_util.ts";

/** A running subprocess with collected output. */
export class Child {
  /** The Deno child process. */
  readonly process: Deno.ChildProcess;
  /** Everything written to stdout so far. */
  stdout = "";
  /** Everything written to stderr so far. */
  stderr = "";
  /** The exit status, once it exited. */
  status: Deno.CommandStatus | null = null;
  #waiters: (() => void)[] = [];
  #pumps: Promise<void>;
  readonly #name: string;

  /** Starts `command args…` with piped stdout and stderr and no stdin. */
  constructor(name: string, command: string, args: string[], cwd?: string) {
    this.#name = name;
    this.process = new Deno.Command(command, {
      args,
      cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#pumps = Promise.all([
      this.#pump(this.process.stdout, (s) => this.stdout += s),
      this.#pump(this.process.stderr, (s) => this.stderr += s),
    ]).then(() => {});
    this.process.status.then((status) => {
      this.status = status;
      this.#wake();
    });
  }

  async #pump(stream: ReadableStream<Uint8Array>, append: (s: string) => void): Promise<void> {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      append(text);
      this.#wake();
    }
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** The collected output, for failure messages. */
  describe(): string {
    const status = this.status ? `exited with code ${this.status.code}` : "still running";
    return `${this.#name} ${status}\n--- stdout\n${this.stdout}\n--- stderr\n${this.stderr}`;
  }

  /**
   * Resolves with the first complete stdout line that `match` accepts; rejects when the process
   * exits first or after `timeoutMs`, with its output in the message.
   */
  async line(what: string, match: (line: string) => boolean, timeoutMs: number): Promise<string> {
    const found = () => this.stdout.split("\n").slice(0, -1).find(match);
    const wait = async () => {
      for (;;) {
        const line = found();
        if (line !== undefined) return line;
        if (this.status) throw new Error(`no ${what}: ${this.describe()}`);
        await new Promise<void>((r) => this.#waiters.push(r));
      }
    };
    try {
      return await withTimeout(wait(), timeoutMs, `${what} from ${this.#name}`);
    } catch (e) {
      if (this.status) throw e;
      throw new Error(`${(e as Error).message}\n${this.describe()}`);
    }
  }

  /** Waits for the process to exit by itself and for its output to end. */
  async exited(timeoutMs: number): Promise<Deno.CommandStatus> {
    try {
      const status = await withTimeout(this.process.status, timeoutMs, `${this.#name} to exit`);
      await withTimeout(this.#pumps, timeoutMs, `${this.#name}'s output to end`);
      return status;
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${this.describe()}`);
    }
  }

  /** Sends `signal` (if still running) and waits for the exit; SIGKILL when that takes too long. */
  async stop(signal: Deno.Signal = "SIGTERM", timeoutMs = 5000): Promise<Deno.CommandStatus> {
    this.#kill(signal);
    try {
      return await this.exited(timeoutMs);
    } catch {
      this.#kill("SIGKILL");
      return await this.exited(timeoutMs);
    }
  }

  #kill(signal: Deno.Signal): void {
    if (this.status) return;
    try {
      this.process.kill(signal);
    } catch {
      // it exited in the meantime
    }
  }
}
