import assert from "node:assert/strict";
import { runTask } from "./_run_task.ts";

Deno.test("deno task fuzz drives the real service with hostile requests and every check holds", async () => {
  const result = await runTask("fuzz", ["--requests=600", "--seconds=60", "--seed=7"], {});
  assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
  assert.match(result.stdout, /^600 requests in /m);
  assert.match(result.stdout, /^ok {3}no 5xx \(0\)$/m);
  assert.match(result.stdout, /^fuzz: all checks passed$/m);
  assert.doesNotMatch(result.stdout, /^FAIL/m);
});
