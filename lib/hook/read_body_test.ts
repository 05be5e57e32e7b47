import assert from "node:assert/strict";
import { MAX_BODY_BYTES, readBody } from "./read_body.ts";

/** A body stream that produces `chunks` chunks of `size` bytes on demand, counting pulls. */
function countingStream(chunks: number, size: number, fill = 0x61) {
  const state = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (state.pulled === chunks) {
        controller.close();
        return;
      }
      state.pulled++;
      controller.enqueue(new Uint8Array(size).fill(fill));
    },
    cancel() {
      state.cancelled = true;
    },
  }, { highWaterMark: 0 });
  return { stream, state };
}

/** A request as HTTP/1.1 brings it (with a Host header; Deno gives HTTP/2 requests none). */
function post(body: BodyInit | null, headers: Record<string, string> = {}): Request {
  return new Request("https://localhost/hooks/import", {
    method: "POST",
    body,
    headers: { host: "localhost", ...headers },
  });
}

Deno.test("readBody() reads a body as UTF-8 text", async () => {
  assert.deepEqual(await readBody(post('{"name":"Zoë"}')), { ok: true, text: '{"name":"Zoë"}' });
});

Deno.test("readBody() reads a missing body as empty text", async () => {
  assert.deepEqual(await readBody(new Request("https://localhost/")), { ok: true, text: "" });
});

Deno.test("readBody() accepts a body of exactly the limit", async () => {
  const { stream, state } = countingStream(4, 256);
  assert.deepEqual(await readBody(post(stream), { maxBytes: 1024 }), {
    ok: true,
    text: "a".repeat(1024),
  });
  assert.equal(state.pulled, 4);
  assert.equal(state.cancelled, false);
});

Deno.test("readBody() stops pulling a streamed body as soon as it passes the limit", async () => {
  const { stream, state } = countingStream(1000, 1024);
  assert.deepEqual(await readBody(post(stream), { maxBytes: 4096 }), {
    ok: false,
    status: 413,
    reason: "The request body is larger than 4096 bytes",
  });
  // Four chunks fill the limit, the fifth passes it; the other 995 are never produced.
  assert.equal(state.pulled, 5);
  assert.equal(state.cancelled, true);
});

Deno.test("readBody() refuses a declared Content-Length over the limit without reading", async () => {
  const { stream, state } = countingStream(10, 1024);
  const result = await readBody(post(stream, { "content-length": "10240" }), { maxBytes: 4096 });
  assert.deepEqual(result, {
    ok: false,
    status: 413,
    reason: "The request body is larger than 4096 bytes",
  });
  assert.equal(state.pulled, 0);
  assert.equal(state.cancelled, true);
});

Deno.test("readBody() limits bodies to 256 KiB by default", async () => {
  assert.equal(MAX_BODY_BYTES, 262_144);
  const { stream, state } = countingStream(100, 65_536);
  assert.deepEqual(await readBody(post(stream)), {
    ok: false,
    status: 413,
    reason: "The request body is larger than 262144 bytes",
  });
  assert.equal(state.pulled, 5);
});

Deno.test("readBody() answers 400 for a body that is not UTF-8", async () => {
  assert.deepEqual(await readBody(post(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))), {
    ok: false,
    status: 400,
    reason: "The request body is not valid UTF-8",
  });
});

Deno.test("readBody() answers 400 when the body breaks off", async () => {
  let sent = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent) controller.error(new Error("connection reset"));
      else controller.enqueue(new TextEncoder().encode('{"a":'));
      sent = true;
    },
  });
  assert.deepEqual(await readBody(post(stream)), {
    ok: false,
    status: 400,
    reason: "The request body could not be read to its end",
  });
});

Deno.test("readBody() reads a body of declared Content-Length whole, as Okta sends it", async () => {
  const text = '{"eventId":"evt-1","name":"Zoë"}';
  const length = String(new TextEncoder().encode(text).length);
  assert.deepEqual(
    await readBody(post(text, { "content-length": length }), { maxBytes: length.length + 40 }),
    {
      ok: true,
      text,
    },
  );
});

Deno.test("readBody() answers 400 when a body of declared length breaks off or is not UTF-8", async () => {
  const broken = new ReadableStream<Uint8Array>({
    pull(controller) {
      controller.error(new Error("connection reset"));
    },
  });
  assert.deepEqual(await readBody(post(broken, { "content-length": "100" })), {
    ok: false,
    status: 400,
    reason: "The request body could not be read to its end",
  });
  assert.deepEqual(
    await readBody(post(new Uint8Array([0x7b, 0xc3, 0x28, 0x7d]), { "content-length": "4" })),
    { ok: false, status: 400, reason: "The request body is not valid UTF-8" },
  );
});

Deno.test("readBody() streams with the limit when the declared length is not a number", async () => {
  const { stream, state } = countingStream(1000, 1024);
  assert.deepEqual(
    await readBody(post(stream, { "content-length": "12abc" }), { maxBytes: 4096 }),
    {
      ok: false,
      status: 413,
      reason: "The request body is larger than 4096 bytes",
    },
  );
  assert.equal(state.pulled, 5);
});

Deno.test("readBody() refuses a body longer than the limit even if it declared less", async () => {
  const { stream } = countingStream(8, 1024);
  assert.deepEqual(await readBody(post(stream, { "content-length": "10" }), { maxBytes: 4096 }), {
    ok: false,
    status: 413,
    reason: "The request body is larger than 4096 bytes",
  });
});

Deno.test("readBody() answers 408 for a body that stalls, streamed or of declared length", async () => {
  for (const headers of [{}, { "content-length": "100" }]) {
    let cancelled = false;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array(10).fill(0x20)); // then nothing more
      },
      cancel() {
        cancelled = true;
      },
    });
    assert.deepEqual(await readBody(post(stream, headers), { timeoutMs: 50 }), {
      ok: false,
      status: 408,
      reason: "The request body did not arrive within 50 ms",
    });
    if (Object.keys(headers).length === 0) assert.ok(cancelled, "the stalled stream is cancelled");
  }
});

Deno.test("readBody() over HTTP/2 reads a refused body to its end, holding none of it", async () => {
  const { stream, state } = countingStream(100, 65_536);
  const request = new Request("https://localhost/hooks/import", { method: "POST", body: stream });
  assert.deepEqual(await readBody(request, { maxBytes: 4096 }), {
    ok: false,
    status: 413,
    reason: "The request body is larger than 4096 bytes",
  });
  assert.equal(state.pulled, 100, "every chunk was read, so the stream ends cleanly");
});
