/**
 * Refusals of unauthenticated requests, counted instead of written one by one: a flood of
 * requests without the secret costs a counter each, not a durable write each. Per minute, one
 * row per (status, reason, remote address), at most {@link MAX_KEYS_PER_MINUTE} of them; the rest
 * of the minute's addresses share one row. The first refusal of a kind in a minute is reported
 * at once (for the warn line); the counts go to the audit when the minute ends.
 */

import type { RejectionRecord } from "../decision/records.ts";

/** Distinct rows a minute may add at most; further addresses are counted under "(others)". */
export const MAX_KEYS_PER_MINUTE = 20;

/** The remote address recorded for refusals past the minute's limit of distinct rows. */
export const OTHERS = "(others)";

interface Tally {
  record: RejectionRecord;
  count: number;
  lastAt: string;
}

/** Counts refusals per minute; pure apart from the records it is given. */
export class RefusalCounter {
  #minute: string | null = null;
  #tallies = new Map<string, Tally>();

  /**
   * Counts `record` (its `receivedAt` decides its minute). Returns the finished minute's rows
   * when `record` starts a new minute, and whether it is the first of its kind in its minute.
   */
  add(record: RejectionRecord): { readonly first: boolean; readonly done: RejectionRecord[] } {
    const minute = record.receivedAt.slice(0, 16);
    const done = minute === this.#minute ? [] : this.flush();
    this.#minute = minute;
    let key = tallyKey(record, record.remoteAddr);
    if (!this.#tallies.has(key) && this.#tallies.size >= MAX_KEYS_PER_MINUTE) {
      key = tallyKey(record, OTHERS);
      record = { ...record, remoteAddr: OTHERS };
    }
    const tally = this.#tallies.get(key);
    if (tally === undefined) {
      this.#tallies.set(key, { record, count: 1, lastAt: record.receivedAt });
      return { first: true, done };
    }
    tally.count++;
    tally.lastAt = record.receivedAt;
    return { first: false, done };
  }

  /** The rows counted so far, emptied: on a timer at the end of a minute, and at stop. */
  flush(): RejectionRecord[] {
    const rows = [...this.#tallies.values()].map(({ record, count, lastAt }) => ({
      ...record,
      count,
      lastAt,
    }));
    this.#tallies = new Map();
    this.#minute = null;
    return rows;
  }
}

function tallyKey(record: RejectionRecord, remoteAddr: string | null): string {
  return JSON.stringify([record.status, record.reason, remoteAddr, record.method, record.path]);
}
