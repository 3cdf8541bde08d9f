/**
 * The connections of one frame variant on native topics (lib/server/fanout.ts): an array, each
 * member holding its place in it, instead of a `Set`. A `Set` entry cost every such connection
 * 50–140 B of heap on Bun (its table grows fourfold at a time: 52 B per entry at 10,000, 138 B
 * at 19,000); here it is an array slot and the member's `nativeAt`, 16 B.
 *
 * @module
 */

/** A member knows its place in its group (it is in one group at a time). */
export interface GroupMember {
  /** Its index in its group, -1 when in none. */
  nativeAt: number;
}

/** Members in no particular order; adding and removing are O(1). */
export class NativeGroup<C extends GroupMember> {
  readonly #members: C[] = [];

  /** How many members. */
  get size(): number {
    return this.#members.length;
  }

  /** One member (any: members of a variant are alike), or `undefined` when empty. */
  get any(): C | undefined {
    return this.#members[0];
  }

  /** Whether `member` is here. */
  has(member: C): boolean {
    const at = member.nativeAt;
    return at >= 0 && this.#members[at] === member;
  }

  /** Adds `member` (not in any group). */
  add(member: C): void {
    member.nativeAt = this.#members.length;
    this.#members.push(member);
  }

  /** Removes `member`; `false` when it was not here. */
  delete(member: C): boolean {
    const members = this.#members;
    const at = member.nativeAt;
    if (at < 0 || members[at] !== member) return false;
    const last = members.pop()!;
    if (last !== member) {
      members[at] = last; // the last one takes its place
      last.nativeAt = at;
    }
    member.nativeAt = -1;
    return true;
  }

  /**
   * Calls `fn` with every member, last first: `fn` may remove the member it is given (the one
   * that takes its place was already seen).
   */
  forEachLastFirst(fn: (member: C) => void): void {
    const members = this.#members;
    for (let i = members.length - 1; i >= 0; i--) {
      if (i < members.length) fn(members[i]);
    }
  }
}
