/**
 * A decision's fingerprint: a digest of what the rule read (`decisionInputs`), stored beside the
 * decision, so a request reusing an eventId with other inputs is decided on its own. Both engines
 * compute it here, so their rows agree.
 */

import { createHash } from "node:crypto";

/** Before fingerprints were kept: such a decision is taken to match any inputs (a retry). */
export const LEGACY_FINGERPRINT = "";

/** SHA-256 of the inputs, 128 bits in base64url (22 characters). */
export function fingerprintOf(inputs: string): string {
  return createHash("sha256").update(inputs).digest("base64url").slice(0, 22);
}
