import assert from "node:assert/strict";
import { quote } from "./quote.ts";

Deno.test("quote() keeps a short value whole, as JSON", () => {
  assert.equal(quote('say "hi"'), '"say \\"hi\\""');
});

Deno.test("quote() cuts a long value to the limit, never inside a code point", () => {
  assert.equal(quote("x".repeat(262_144)), `"${"x".repeat(40)}…"`);
  assert.equal(quote("😀".repeat(5), 3), '"😀😀😀…"');
});
