import assert from "node:assert/strict";
import { ask, type AsyncPort, type Port, runAsync, runSync, type Steps } from "./steps.ts";

/** Steps that ask twice, the second question depending on the first answer. */
function* steps(): Steps<string> {
  const counter = yield* ask("suffixCounter", "a@x.com");
  const highest = yield* ask("highestSuffix", "a", `x${counter ?? 0}.com`);
  return `${counter}:${highest}`;
}

const asked: string[] = [];
const port = {
  suffixCounter: (key: string) => {
    asked.push(`counter ${key}`);
    return 7;
  },
  highestSuffix: (local: string, domain: string) => {
    asked.push(`highest ${local} ${domain}`);
    return 3;
  },
} as unknown as Port;

Deno.test("runSync() and runAsync() answer the same steps alike, in order", async () => {
  asked.length = 0;
  assert.equal(runSync(steps(), port), "7:3");
  const asyncPort = Object.fromEntries(
    Object.entries(port).map(([name, f]) => [name, (...a: never[]) => Promise.resolve(f(...a))]),
  ) as unknown as AsyncPort;
  assert.equal(await runAsync(steps(), asyncPort), "7:3");
  assert.deepEqual(asked, [
    "counter a@x.com",
    "highest a x7.com",
    "counter a@x.com",
    "highest a x7.com",
  ]);
});
