/**
 * Reads a request body up to a size limit and a deadline, stopping as soon as either is passed:
 * a 20 MB body is refused after the first chunks, not after it was buffered, and a body that
 * stalls is answered 408 instead of holding its connection.
 */

/** Largest request body accepted. Okta's import requests are a few KiB. */
export const MAX_BODY_BYTES = 256 * 1024;

/** Result of {@link readBody}. */
export type BodyResult =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly status: 400 | 408 | 413; readonly reason: string };

/** Limits of {@link readBody}. */
export interface BodyLimits {
  /** Most bytes accepted. */
  readonly maxBytes?: number;
  /** Most milliseconds the whole body may take to arrive; none when absent. */
  readonly timeoutMs?: number;
}

/** Most bytes of a refused body read and thrown away, so an HTTP/2 client gets its answer. */
export const DISCARD_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Lets go of a body that will not be used. Over HTTP/1.1 it is cancelled: the connection closes
 * after the answer. Over HTTP/2 the server resets a stream whose body was not read to its end,
 * and the client loses the answer with it (curl: "Stream error in the HTTP/2 framing layer"), so
 * its bytes are read and thrown away, never held, up to {@link DISCARD_MAX_BYTES} (the
 * connection guard's request deadline bounds the time). Deno gives HTTP/2 requests no Host
 * header: that is how they are told apart.
 */
export async function discardBody(
  request: Request,
  reader: ReadableStreamDefaultReader<Uint8Array> | null = null,
): Promise<void> {
  const stream = reader ?? request.body?.getReader() ?? null;
  if (stream === null) return;
  if (request.headers.has("host")) return void await stream.cancel().catch(() => {});
  try {
    for (let read = 0; read <= DISCARD_MAX_BYTES;) {
      const next = await stream.read();
      if (next.done) return;
      read += next.value.byteLength;
    }
  } catch {
    return; // the stream broke off: nothing more to let go of
  }
  await stream.cancel().catch(() => {});
}

/** Reads `request`'s body as UTF-8 text, refusing more than the limit or a body that stalls. */
export async function readBody(request: Request, limits: BodyLimits = {}): Promise<BodyResult> {
  const limit = limits.maxBytes ?? MAX_BODY_BYTES;
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) {
    await discardBody(request);
    return tooLarge(limit);
  }
  if (request.body === null) return { ok: true, text: "" };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stalled = new Promise<"stalled">((resolve) => {
    if (limits.timeoutMs !== undefined) {
      timer = setTimeout(() => resolve("stalled"), limits.timeoutMs);
    }
  });
  const late = (): BodyResult => ({
    ok: false,
    status: 408,
    reason: `The request body did not arrive within ${limits.timeoutMs} ms`,
  });
  if (declared !== null && /^\d+$/.test(declared)) {
    // The length is known and within the limit: HTTP/1.1 frames the body by it, so read it whole.
    const whole = request.bytes();
    whole.catch(() => {}); // after a stall it fails when the connection closes
    try {
      const bytes = await Promise.race([whole, stalled]);
      if (bytes === "stalled") return late();
      return bytes.byteLength > limit ? tooLarge(limit) : decode(bytes);
    } catch {
      return unreadable();
    } finally {
      clearTimeout(timer);
    }
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), stalled]);
      if (next === "stalled") {
        reader.cancel().catch(() => {});
        return late();
      }
      if (next.done) break;
      size += next.value.byteLength;
      if (size > limit) {
        await discardBody(request, reader);
        return tooLarge(limit);
      }
      chunks.push(next.value);
    }
  } catch {
    return unreadable();
  } finally {
    clearTimeout(timer);
  }
  if (chunks.length === 1) return decode(chunks[0]!);
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
