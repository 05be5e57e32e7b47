/**
 * HTTP/1.1 message framing, as the connection guard (lib/hook/guard.ts) needs it: where each
 * request or response head starts and ends and where its body ends, so that a head can be given
 * a deadline and a connection with nothing outstanding told from a busy one. It does not
 * interpret requests: `Deno.serve` behind the guard does. Each request head is passed on with the
 * client's address in {@link PEER_HEADER} (any copy the client sent is dropped), and request
 * framing that two parsers could read differently (request smuggling) is refused.
 */

/** The header the guard adds to each request: the client's address, as it saw it. */
export const PEER_HEADER = "x-import-hook-peer";

/** Longest request head accepted; Okta's are well under 2 KiB. */
export const MAX_HEAD_BYTES = 16 * 1024;

/** A request the guard answers itself and then closes the connection. */
export interface FramingRefusal {
  readonly status: 400 | 431;
  readonly reason: string;
}

/** What one chunk from the client became. */
export interface FramingStep {
  /** Bytes to pass on, in order. */
  readonly forward: Uint8Array[];
  /** A request head began in this chunk (its first byte arrived). */
  readonly headStarted: boolean;
  /** Messages (requests, or final responses) whose body ended in this chunk. */
  readonly messagesEnded: number;
  /** Set when the stream cannot be framed: answer it and close. */
  readonly refusal: FramingRefusal | null;
}

type State =
  | { readonly kind: "idle" }
  | { readonly kind: "head" }
  | { readonly kind: "length"; remaining: number }
  | { readonly kind: "chunk-size"; line: string }
  | { readonly kind: "chunk-data"; remaining: number }
  | { readonly kind: "chunk-end"; seen: number }
  | { readonly kind: "trailers"; line: string; lines: number }
  | { readonly kind: "until-close" };

/** What a head means for the bytes after it. */
type HeadOutcome =
  | { readonly forward: Uint8Array; readonly state: State; readonly ended: boolean }
  | FramingRefusal;

const CRLF_CRLF = [13, 10, 13, 10];
const encoder = new TextEncoder();

/**
 * The requests a client sends: each head gets `peer` (the client's address) added, and its
 * method is appended to `methods`, for {@link responseFraming} to know a HEAD's answer is bodiless.
 */
export function requestFraming(peer: string, methods: string[] = []): MessageFraming {
  const peerLine = encoder.encode(`${PEER_HEADER}: ${peer.replace(/[^0-9A-Za-z.:%-]/g, "")}\r\n`);
  return new MessageFraming((head) => {
    const framed = frameRequestHead(head);
    if ("status" in framed) return framed;
    methods.push(framed.method);
    return {
      forward: withPeer(head, peerLine),
      state: framed.state,
      ended: framed.state.kind === "idle",
    };
  });
}

/** The responses the server sends, in order, one for each method `methods` holds. */
export function responseFraming(methods: string[]): MessageFraming {
  return new MessageFraming((head) => {
    const status = Number(
      /^HTTP\/1\.[01] (\d{3})/.exec(bytesToText(head.subarray(0, 16)))?.[1] ?? 0,
    );
    // An interim response (100 Continue) precedes the real one to the same request.
    if (status >= 100 && status < 200 && status !== 101) {
      return { forward: head, state: { kind: "idle" }, ended: false };
    }
    const method = methods.shift();
    if (method === "HEAD" || status === 204 || status === 304) {
      return { forward: head, state: { kind: "idle" }, ended: true };
    }
    const framed = frameBody(bytesToText(head));
    if ("status" in framed) return { forward: head, state: { kind: "until-close" }, ended: false };
    return { forward: head, state: framed.state, ended: framed.state.kind === "idle" };
  });
}

/** Tracks the messages of one direction of a connection. */
export class MessageFraming {
  readonly #onHead: (head: Uint8Array) => HeadOutcome;
  #state: State = { kind: "idle" };
  #head: Uint8Array[] = [];
  #headBytes = 0;

  /** `onHead` decides what each complete head means for what follows. */
  constructor(onHead: (head: Uint8Array) => HeadOutcome) {
    this.#onHead = onHead;
  }

  /** True between messages: no byte of the next head has arrived. */
  get idle(): boolean {
    return this.#state.kind === "idle";
  }

  /** True while a head is arriving. */
  get inHead(): boolean {
    return this.#state.kind === "head";
  }

  /** Feeds the next bytes. */
  push(chunk: Uint8Array): FramingStep {
    const forward: Uint8Array[] = [];
    let headStarted = false;
    let messagesEnded = 0;
    let at = 0;
    while (at < chunk.length) {
      const state = this.#state;
      switch (state.kind) {
        case "idle":
          this.#state = { kind: "head" };
          headStarted = true;
          break;
        case "head": {
          const end = this.#findHeadEnd(chunk, at);
          const taken = end === -1 ? chunk.length : end;
          // Copied: the caller reuses its buffer, and a head may span several reads.
          this.#head.push(chunk.slice(at, taken));
          this.#headBytes += taken - at;
          at = taken;
          if (this.#headBytes > MAX_HEAD_BYTES) {
            return refuse(forward, headStarted, messagesEnded, 431, "Request head too large");
          }
          if (end === -1) break;
          const outcome = this.#onHead(this.#takeHead());
          if ("status" in outcome) {
            return refuse(forward, headStarted, messagesEnded, outcome.status, outcome.reason);
          }
          forward.push(outcome.forward);
          this.#state = outcome.state;
          if (outcome.ended) messagesEnded++;
          break;
        }
        case "until-close":
          forward.push(chunk.subarray(at));
          at = chunk.length;
          break;
        case "length": {
          const n = Math.min(state.remaining, chunk.length - at);
          forward.push(chunk.subarray(at, at + n));
          at += n;
          state.remaining -= n;
          if (state.remaining === 0) {
            this.#state = { kind: "idle" };
            messagesEnded++;
          }
          break;
        }
        case "chunk-size":
        case "trailers": {
          const start = at;
          while (at < chunk.length && chunk[at] !== 10) at++;
          const found = at < chunk.length;
          if (found) at++;
          forward.push(chunk.subarray(start, at));
          state.line += bytesToText(chunk.subarray(start, at));
          if (state.line.length > 4096) {
            return refuse(forward, headStarted, messagesEnded, 400, "Chunk line too long");
          }
          if (!found) break;
          const line = state.line.replace(/\r?\n$/, "");
          if (state.kind === "chunk-size") {
            const size = /^([0-9A-Fa-f]{1,12})(;.*)?$/.exec(line);
            if (size === null) {
              return refuse(forward, headStarted, messagesEnded, 400, "Malformed chunk size");
            }
            const n = parseInt(size[1]!, 16);
            this.#state = n === 0
              ? { kind: "trailers", line: "", lines: 0 }
              : { kind: "chunk-data", remaining: n };
          } else if (line === "") {
            this.#state = { kind: "idle" };
            messagesEnded++;
          } else {
            if (++state.lines > 64) {
              return refuse(forward, headStarted, messagesEnded, 400, "Too many trailers");
            }
            state.line = "";
          }
          break;
        }
        case "chunk-data": {
          const n = Math.min(state.remaining, chunk.length - at);
          forward.push(chunk.subarray(at, at + n));
          at += n;
          state.remaining -= n;
          if (state.remaining === 0) this.#state = { kind: "chunk-end", seen: 0 };
          break;
        }
        case "chunk-end": {
          // The CRLF after a chunk's data.
          const expected = state.seen === 0 ? 13 : 10;
          if (chunk[at] !== expected) {
            return refuse(forward, headStarted, messagesEnded, 400, "Malformed chunk");
          }
          forward.push(chunk.subarray(at, at + 1));
          at++;
          if (++state.seen === 2) this.#state = { kind: "chunk-size", line: "" };
          break;
        }
      }
    }
    return { forward, headStarted, messagesEnded, refusal: null };
  }

  /** Index just past the head's CRLF CRLF in `chunk` from `from`, counting bytes held, or -1. */
  #findHeadEnd(chunk: Uint8Array, from: number): number {
    // The terminator may straddle chunks: look at the held tail with the new bytes.
    const held = this.#tail(3);
    for (let i = from; i < chunk.length; i++) {
      if (chunk[i] !== 10) continue;
      let matched = true;
      for (let k = 1; k <= 3; k++) {
        const index = i - k;
        const byte = index >= from ? chunk[index] : held[held.length - (from - index)];
        if (byte !== CRLF_CRLF[3 - k]) {
          matched = false;
          break;
        }
      }
      if (matched) return i + 1;
    }
    return -1;
  }

  #tail(n: number): number[] {
    const out: number[] = [];
    for (let i = this.#head.length - 1; i >= 0 && out.length < n; i--) {
      const part = this.#head[i]!;
      for (let j = part.length - 1; j >= 0 && out.length < n; j--) out.unshift(part[j]!);
    }
    return out;
  }

  #takeHead(): Uint8Array {
    const head = new Uint8Array(this.#headBytes);
    let offset = 0;
    for (const part of this.#head) {
      head.set(part, offset);
      offset += part.length;
    }
    this.#head = [];
    this.#headBytes = 0;
    return head;
  }
}

function refuse(
  forward: Uint8Array[],
  headStarted: boolean,
  messagesEnded: number,
  status: 400 | 431,
  reason: string,
): FramingStep {
  return { forward, headStarted, messagesEnded, refusal: { status, reason } };
}

/** The request head's method, and how its body is framed. */
function frameRequestHead(head: Uint8Array): { method: string; state: State } | FramingRefusal {
  const text = bytesToText(head);
  const framed = frameBody(text);
  if ("status" in framed) return framed;
  return { method: text.slice(0, text.indexOf(" ")), state: framed.state };
}

/**
 * How the body after this head is framed, per RFC 9112 section 6: chunked, a Content-Length,
 * or none. Anything two parsers could read differently is refused.
 */
function frameBody(text: string): { state: State } | FramingRefusal {
  const lines = text.slice(0, -4).split("\r\n");
  const lengths: string[] = [];
  const codings: string[] = [];
  for (const line of lines.slice(1)) {
    if (line === "") return { status: 400, reason: "Empty header line" };
    if (line.startsWith(" ") || line.startsWith("\t")) {
      return { status: 400, reason: "Folded header line" };
    }
    const colon = line.indexOf(":");
    if (colon <= 0 || /[\s]/.test(line.slice(0, colon))) {
      return { status: 400, reason: "Malformed header line" };
    }
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "content-length") lengths.push(value);
    if (name === "transfer-encoding") codings.push(value.toLowerCase());
  }
  if (codings.length > 0) {
    if (lengths.length > 0) return { status: 400, reason: "Both Content-Length and chunked" };
    const all = codings.join(",").split(",").map((c) => c.trim()).filter((c) => c !== "");
    if (all.length !== 1 || all[0] !== "chunked") {
      return { status: 400, reason: "Unsupported Transfer-Encoding" };
    }
    return { state: { kind: "chunk-size", line: "" } };
  }
  if (lengths.length === 0) return { state: { kind: "idle" } };
  const distinct = new Set(lengths.flatMap((v) => v.split(",").map((x) => x.trim())));
  if (distinct.size !== 1) return { status: 400, reason: "Conflicting Content-Length" };
  const [length] = [...distinct];
  if (!/^\d{1,15}$/.test(length!)) return { status: 400, reason: "Malformed Content-Length" };
  const n = Number(length);
  return { state: n === 0 ? { kind: "idle" } : { kind: "length", remaining: n } };
}

/** The head without any client copy of {@link PEER_HEADER}, with the guard's own line added. */
function withPeer(head: Uint8Array, peerLine: Uint8Array): Uint8Array {
  const text = bytesToText(head);
  const lines = text.slice(0, -4).split("\r\n");
  const kept = lines.filter((line, i) =>
    i === 0 || line.slice(0, line.indexOf(":")).trim().toLowerCase() !== PEER_HEADER
  );
  const start = textToBytes(`${kept.join("\r\n")}\r\n`);
  const out = new Uint8Array(start.length + peerLine.length + 2);
  out.set(start, 0);
  out.set(peerLine, start.length);
  out.set([13, 10], start.length + peerLine.length);
  return out;
}

/** Bytes as a string of one code unit per byte (0-255), so any byte survives a round trip. */
function bytesToText(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return text;
}

/** The bytes {@link bytesToText} made the string from. */
function textToBytes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
  return bytes;
}
