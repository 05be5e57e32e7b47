/**
 * A decision's fingerprint: a digest of what the rule read (`decisionInputs`), stored beside the
 * decision, so a request reusing an eventId with other inputs is decided on its own. Both engines
 * compute it here, so their rows agree.
 */

import { createHash } from "node:crypto";
import type { PriorDecision, StoredDecision } from "../decision/records.ts";

/** Before fingerprints were kept: such a decision is taken to match any inputs (a retry). */
export const LEGACY_FINGERPRINT = "";

/** The last inputs hashed: a decision looks its inputs up, then records them. */
let last: { readonly inputs: string; readonly fingerprint: string } | null = null;

/** SHA-256 of the inputs, 128 bits in base64url (22 characters). */
export function fingerprintOf(inputs: string): string {
  if (last?.inputs !== inputs) {
    last = {
      inputs,
      fingerprint: createHash("sha256").update(inputs).digest("base64url").slice(0, 22),
    };
  }
  return last.fingerprint;
}

/** A `decisions` row as the replay lookup reads it, on either engine. */
export interface DecisionRow {
  readonly outcome: StoredDecision["outcome"];
  readonly strategy: string | null;
  readonly status: number;
  readonly response: string | null;
  readonly fingerprint: string;
}

/**
 * What `row` (the best match for `eventId`, or none) means for a request whose inputs have
 * `fingerprint`: its decision to replay, or only that other inputs were decided.
 */
export function priorDecision(
  row: DecisionRow | undefined,
  fingerprint: string,
): PriorDecision | undefined {
  if (row === undefined) return undefined;
  if (row.fingerprint !== fingerprint && row.fingerprint !== LEGACY_FINGERPRINT) {
    return { sameInputs: false };
  }
  const reply = { status: row.status, body: row.response };
  return { sameInputs: true, decision: { outcome: row.outcome, strategy: row.strategy, reply } };
}
