import assert from "node:assert/strict";
import { MAX_HEAD_BYTES, PEER_HEADER, requestFraming, responseFraming } from "./framing.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Feeds `parts` one by one; returns what was forwarded and the counts. */
function feed(parts: (string | Uint8Array)[], peer = "203.0.113.5") {
  const framing = requestFraming(peer);
  let forwarded = "";
  let heads = 0;
  let ended = 0;
  for (const part of parts) {
    const step = framing.push(typeof part === "string" ? enc.encode(part) : part);
    forwarded += step.forward.map((b) => dec.decode(b)).join("");
    if (step.headStarted) heads++;
    ended += step.messagesEnded;
    if (step.refusal !== null) return { forwarded, heads, ended, refusal: step.refusal, framing };
  }
  return { forwarded, heads, ended, refusal: null, framing };
}

Deno.test("requestFraming() passes a head on with the client's address and counts its body", () => {
  const result = feed([
    "POST /hooks/import HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhel",
    "lo",
  ]);
  assert.equal(
    result.forwarded,
    `POST /hooks/import HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n${PEER_HEADER}: 203.0.113.5\r\n\r\nhello`,
  );
  assert.deepEqual([result.heads, result.ended, result.framing.idle], [1, 1, true]);
});

Deno.test("requestFraming() drops a peer header the client sent", () => {
  const result = feed([`GET / HTTP/1.1\r\nX-Import-Hook-Peer: 10.9.9.9\r\nHost: x\r\n\r\n`]);
  assert.ok(!result.forwarded.includes("10.9.9.9"), result.forwarded);
  assert.equal(result.forwarded.split(PEER_HEADER).length, 2);
});

Deno.test("requestFraming() finds a head whose CRLF CRLF is split across chunks, byte by byte", () => {
  const text = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: y\r\n\r\n";
  const result = feed([...text].map((c) => c));
  assert.deepEqual([result.heads, result.ended], [2, 2]);
  assert.equal(result.forwarded.split(PEER_HEADER).length, 3);
});

Deno.test("requestFraming() follows a chunked body with extensions and trailers to its end", () => {
  const result = feed([
    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
    "5;ext=1\r\nhello\r\n",
    "0\r\nX-Trailer: t\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
  ]);
  assert.equal(result.refusal, null);
  assert.deepEqual([result.heads, result.ended, result.framing.idle], [2, 2, true]);
  assert.ok(result.forwarded.includes("5;ext=1\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n"));
});

Deno.test("requestFraming() refuses framing two parsers could read differently", () => {
  const refusals = [
    "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
    "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
    "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
    "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
    "POST / HTTP/1.1\r\nContent-Length : 5\r\n\r\n",
    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
  ];
  for (const text of refusals) {
    assert.equal(feed([text]).refusal?.status, 400, JSON.stringify(text));
  }
  // The same length twice is one length.
  assert.equal(
    feed(["POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx"]).ended,
    1,
  );
});

Deno.test("requestFraming() refuses a head over the limit with 431, before it ends", () => {
  const result = feed(["GET / HTTP/1.1\r\n", `X-Big: ${"a".repeat(MAX_HEAD_BYTES)}`]);
  assert.deepEqual(result.refusal, { status: 431, reason: "Request head too large" });
});

Deno.test("requestFraming() keeps every byte of a header value, UTF-8 and obs-text alike", () => {
  const bytes = enc.encode("GET / HTTP/1.1\r\nX-Name: Zoë\u0080\r\n\r\n");
  const framing = requestFraming("::1");
  const out = framing.push(bytes).forward[0]!;
  assert.deepEqual(out.subarray(0, bytes.length - 2), bytes.subarray(0, bytes.length - 2));
});

Deno.test("responseFraming() ends each response by its length, chunks, or status, and skips 100 Continue", () => {
  const methods = ["POST", "HEAD", "POST", "POST", "POST"];
  const framing = responseFraming(methods);
  const text = "HTTP/1.1 100 Continue\r\n\r\n" +
    "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok" +
    "HTTP/1.1 200 OK\r\ncontent-length: 99\r\n\r\n" + // a HEAD: no body follows
    "HTTP/1.1 204 No Content\r\n\r\n" +
    "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n";
  const step = framing.push(enc.encode(text));
  assert.equal(step.messagesEnded, 4);
  assert.equal(framing.idle, true);
  const last = framing.push(enc.encode("HTTP/1.1 400 Bad Request\r\ncontent-length: 3\r\n\r\nab"));
  assert.deepEqual([last.messagesEnded, framing.idle], [0, false]);
  assert.equal(framing.push(enc.encode("c")).messagesEnded, 1);
  assert.deepEqual(methods, []);
});
