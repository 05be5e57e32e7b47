/**
 * A stream step that turns CRLF line ends into LF before CSV parsing. csv-parse counts a CRLF
 * inside a quoted field as two lines, which would shift every line number reported after it.
 */

import { Transform, type TransformCallback } from "node:stream";

/** A byte transform replacing each `\r\n` with `\n`; a lone `\r` is kept. */
export function crlfToLf(): Transform {
  let pendingCr = false;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
      const bytes = chunk as Uint8Array;
      const parts: Uint8Array[] = [];
      // A CR that ended the previous chunk is kept unless this chunk starts with its LF.
      if (pendingCr && bytes[0] !== 0x0a) parts.push(Uint8Array.of(0x0d));
      pendingCr = false;
      let start = 0;
      for (let i = 0; i < bytes.length; i++) {
        if (bytes[i] !== 0x0d) continue;
        if (i === bytes.length - 1) {
          parts.push(bytes.subarray(start, i));
          pendingCr = true;
          start = bytes.length;
        } else if (bytes[i + 1] === 0x0a) {
          parts.push(bytes.subarray(start, i));
          start = i + 1;
        }
      }
      if (start < bytes.length) parts.push(bytes.subarray(start));
      done(null, Buffer.concat(parts));
    },
    flush(done: TransformCallback) {
      done(null, pendingCr ? Buffer.from([0x0d]) : undefined);
    },
  });
}
