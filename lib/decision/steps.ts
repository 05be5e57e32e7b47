/**
 * The rule's seam to its store. The rule (resolve_login.ts, decide_event.ts) is written once, as
 * a generator that yields each question for the login index or the audit and is resumed with the
 * answer; an engine answers it: SQLite at once on its connection (`runSync`), PostgreSQL over the
 * network (`runAsync`). The rule itself touches no database and no clock.
 */

import type { LoginEntry, LoginIndex, LoginSource, Reservation } from "./login_index.ts";
import type { AuditLog, DecisionRecord, StoredDecision } from "./audit.ts";

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
  /** The highest n of the `<localKey><n>@<domainKey>` keys held (1 if none). */
  highestSuffix(localKey: string, domainKey: string): number;
  /** The decision already made for `eventId`, if any. */
  findDecision(eventId: string): StoredDecision | undefined;
  /** Adds a decision row; throws if `eventId` already has one. */
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

/** A computation of the rule that yields questions and returns `T`. */
export type Steps<T> = Generator<Ask, T, unknown>;

/** Asks `method(...args)` of whichever engine runs the steps, and returns its answer. */
export function* ask<M extends keyof Port>(
  method: M,
  ...args: Parameters<Port[M]>
): Generator<Ask, ReturnType<Port[M]>, unknown> {
  return (yield { method, args }) as ReturnType<Port[M]>;
}

/** Runs `steps` against a synchronous engine. */
export function runSync<T>(steps: Steps<T>, port: Port): T {
  let next = steps.next();
  while (!next.done) {
    const { method, args } = next.value;
    next = steps.next((port[method] as (...a: readonly unknown[]) => unknown)(...args));
  }
  return next.value;
}

/** Runs `steps` against an asynchronous engine, one question at a time. */
export async function runAsync<T>(steps: Steps<T>, port: AsyncPort): Promise<T> {
  let next = steps.next();
  while (!next.done) {
    const { method, args } = next.value;
    next = steps.next(
      await (port[method] as (...a: readonly unknown[]) => Promise<unknown>)(...args),
    );
  }
  return next.value;
}

/** The SQLite engine: its login index and audit answer on the caller's connection. */
export function sqlitePort(index: LoginIndex, audit?: AuditLog): Port {
  const noAudit = (): never => {
    throw new Error("These steps were given no audit");
  };
  return {
    find: (login) => index.find(login),
    findForOwner: (owner, requested) => index.findForOwner(owner, requested),
    reserveIfFree: (r) => index.reserveIfFree(r),
    disown: (login, source) => index.disown(login, source),
    suffixCounter: (baseKey) => index.suffixCounter(baseKey),
    setSuffixCounter: (baseKey, next) => index.setSuffixCounter(baseKey, next),
    highestSuffix: (localKey, domainKey) => index.highestSuffix(localKey, domainKey),
    findDecision: audit === undefined ? noAudit : (eventId) => audit.findDecision(eventId),
    recordDecision: audit === undefined ? noAudit : (d) => audit.recordDecision(d),
  };
}
