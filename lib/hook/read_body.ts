/**
 * Reads a request body up to a limit, stopping as soon as the limit is passed: a 20 MB body is
 * refused after the first chunks, not after it was buffered.
 */

/** Largest request body accepted. Okta's import requests are a few KiB. */
export const MAX_BODY_BYTES = 256 * 1024;

/** Result of {@link readBody}. */
export type BodyResult =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly status: 400 | 413; readonly reason: string };

/** Reads `request`'s body as UTF-8 text, refusing more than `limit` bytes. */
export async function readBody(
  request: Request,
  limit: number = MAX_BODY_BYTES,
): Promise<BodyResult> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) {
    await request.body?.cancel().catch(() => {});
    return tooLarge(limit);
  }
  if (request.body === null) return { ok: true, text: "" };
  if (declared !== null && /^\d+$/.test(declared)) {
    // The length is known and within the limit: HTTP/1.1 frames the body by it, so read it whole.
    let bytes: Uint8Array;
    try {
      bytes = await request.bytes();
    } catch {
      return unreadable();
    }
    return bytes.byteLength > limit ? tooLarge(limit) : decode(bytes);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => {});
        return tooLarge(limit);
      }
      chunks.push(value);
    }
  } catch {
    return unreadable();
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return decode(bytes);
}

/** Strict: a byte sequence that is not UTF-8 is refused, never replaced. */
const UTF8 = new TextDecoder("utf-8", { fatal: true });

function decode(bytes: Uint8Array): BodyResult {
  try {
    return { ok: true, text: UTF8.decode(bytes) };
  } catch {
    return { ok: false, status: 400, reason: "The request body is not valid UTF-8" };
  }
}

function unreadable(): BodyResult {
  return { ok: false, status: 400, reason: "The request body could not be read to its end" };
}

function tooLarge(limit: number): BodyResult {
  return { ok: false, status: 413, reason: `The request body is larger than ${limit} bytes` };
}
