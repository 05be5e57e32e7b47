import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { crlfToLf } from "./csv.ts";

async function run(chunks: string[]): Promise<string> {
  const out: Buffer[] = [];
  const stream = Readable.from(chunks.map((chunk) => Buffer.from(chunk))).pipe(crlfToLf());
  for await (const chunk of stream) out.push(chunk as Buffer);
  return Buffer.concat(out).toString("utf8");
}

Deno.test("crlfToLf() turns CRLF into LF and keeps lone CRs", async () => {
  assert.equal(await run(['a,b\r\nc,"x\r\ny"\r\n']), 'a,b\nc,"x\ny"\n');
  assert.equal(await run(["a\rb\r\n"]), "a\rb\n");
});

Deno.test("crlfToLf() joins a CRLF split across chunks", async () => {
  assert.equal(await run(["a\r", "\nb\r", "c\r"]), "a\nb\rc\r");
});
