/**
 * The rule's seam to its store. The rule (resolve_login.ts, decide_event.ts) is written once, as
 * a generator that yields each question for the login index or the audit and is resumed with the
 * answer; an engine answers it: SQLite at once on its connection (`runSync`), PostgreSQL over the
 * network (`runAsync`). The rule itself touches no database and no clock.
 */

import type {
  DecisionRecord,
  LoginEntry,
  LoginSource,
  PriorDecision,
  Reservation,
} from "./records.ts";

/** What the rule may ask; every engine implements these, synchronously. */
export interface Port {
  /** The entry holding `login` (compared by `loginKey`), if any. */
  find(login: string): LoginEntry | undefined;
  /** The login `owner` was given before when it asked for `requested`, if any. */
  findForOwner(owner: string, requested: string): LoginEntry | undefined;
  /** Records the reservation unless its login is taken; whether it was recorded. */
  reserveIfFree(r: Reservation): boolean;
  /** Keeps `login` taken but by no owner. */
  disown(login: string, source: LoginSource): void;
  /** The numbered-login counter of `baseKey`, if any. */
  suffixCounter(baseKey: string): number | undefined;
  /** Sets that counter to `next`. */
  setSuffixCounter(baseKey: string, next: number): void;
  /**
   * What was decided before for `eventId`: the decision made from these `inputs`, or that only
   * other inputs were decided under it; `undefined` when nothing was.
   */
  findDecision(eventId: string, inputs: string): PriorDecision | undefined;
  /** Adds a decision row; throws if `eventId` already has one made from the same inputs. */
  recordDecision(d: DecisionRecord): void;
}

/** The same questions, answered asynchronously. */
export type AsyncPort = {
  readonly [M in keyof Port]: (...args: Parameters<Port[M]>) => Promise<ReturnType<Port[M]>>;
};

/** One question: a method of {@link Port} and its arguments. */
export interface Ask {
  readonly method: keyof Port;
  readonly args: readonly unknown[];
}

const READ_METHODS = [
  "find",
  "findForOwner",
  "suffixCounter",
  "findDecision",
] as const satisfies readonly (keyof Port)[];

/** The questions that only read: they may be asked ahead, together. */
export type ReadMethod = typeof READ_METHODS[number];

const READS: ReadonlySet<keyof Port> = new Set(READ_METHODS);

/** Whether `method` only reads: a prefetched answer stays good across it. */
export function isRead(method: keyof Port): method is ReadMethod {
  return READS.has(method);
}

/** A read question, built by {@link question}. */
export interface ReadAsk extends Ask {
  readonly method: ReadMethod;
}

/** A hint: the steps are about to ask these reads (the ones they reach, in turn). */
export interface Prefetch {
  readonly prefetch: readonly ReadAsk[];
}

/** A computation of the rule that yields questions and returns `T`. */
export type Steps<T> = Generator<Ask | Prefetch, T, unknown>;

/** Asks `method(...args)` of whichever engine runs the steps, and returns its answer. */
export function* ask<M extends keyof Port>(
  method: M,
  ...args: Parameters<Port[M]>
): Generator<Ask, ReturnType<Port[M]>, unknown> {
  return (yield { method, args }) as ReturnType<Port[M]>;
}

/** A read question as a value, for {@link prefetch}. */
export function question<M extends ReadMethod>(method: M, ...args: Parameters<Port[M]>): ReadAsk {
  return { method, args };
}

/**
 * Tells the engine which reads come next. An engine over the network sends them at once (one
 * round trip instead of one each) and answers the steps' later `ask`s of them from what came
 * back, until the steps write; a local engine ignores it. The answers are as fresh as asked
 * one by one: nothing of this decision is written in between, and a read in a READ COMMITTED
 * transaction sees what was committed when it ran either way.
 */
export function* prefetch(...reads: readonly ReadAsk[]): Generator<Prefetch, void, unknown> {
  yield { prefetch: reads };
}

/** Runs `steps` against a synchronous engine. */
export function runSync<T>(steps: Steps<T>, port: Port): T {
  let next = steps.next();
  while (!next.done) {
    const step = next.value;
    if ("prefetch" in step) {
      next = steps.next();
      continue;
    }
    next = steps.next((port[step.method] as (...a: readonly unknown[]) => unknown)(...step.args));
  }
  return next.value;
}

/**
 * Runs `steps` against an asynchronous engine: one question at a time, but the reads of a
 * {@link prefetch} together.
 */
export async function runAsync<T>(steps: Steps<T>, port: AsyncPort): Promise<T> {
  const call = (a: Ask) =>
    (port[a.method] as (...args: readonly unknown[]) => Promise<unknown>)(...a.args);
  /** Prefetched answers not yet taken, by question. */
  let ahead = new Map<string, Promise<unknown>>();
  const started: Promise<unknown>[] = [];
  let next = steps.next();
  while (!next.done) {
    const step = next.value;
    if ("prefetch" in step) {
      ahead = new Map(step.prefetch.map((read) => [keyOf(read), call(read)]));
      for (const answer of ahead.values()) {
        // A prefetched read that the steps never take must not fail unobserved.
        answer.catch(() => {});
        started.push(answer);
      }
      next = steps.next();
      continue;
    }
    const key = keyOf(step);
    const answer = ahead.get(key);
    if (answer !== undefined) ahead.delete(key);
    else if (!isRead(step.method)) ahead.clear(); // a write: what was read ahead may be stale
    next = steps.next(await (answer ?? call(step)));
  }
  // No read of these steps may still run when the caller goes on (to release a savepoint).
  await Promise.allSettled(started);
  return next.value;
}

function keyOf(a: Ask): string {
  return `${a.method} ${JSON.stringify(a.args)}`;
}
