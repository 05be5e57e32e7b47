import assert from "node:assert/strict";
import { freeSuffixedSteps } from "./suffix.ts";
import { type Port, runSync } from "./steps.ts";
import { loginKey } from "./fold_name.ts";

/** A port over a set of taken keys that records every login it is asked about. */
function portOver(taken: Set<string>, counters = new Map<string, number>()) {
  const asked: string[] = [];
  const port = {
    find: (login: string) => {
      asked.push(login);
      return taken.has(loginKey(login)) ? { login } : undefined;
    },
    suffixCounter: (key: string) => counters.get(key),
    setSuffixCounter: (key: string, next: number) => void counters.set(key, next),
  } as unknown as Port;
  return { port, asked, counters };
}

const JOHN = { local: "john.smith", domain: "example.com" };

Deno.test("the first numbered login at a new base is one lookup, whatever other domains hold", () => {
  const taken = new Set<string>();
  for (let n = 2; n <= 50_000; n++) taken.add(`john.smith${n}@other.example`);
  const { port, asked, counters } = portOver(taken);
  assert.equal(runSync(freeSuffixedSteps(JOHN), port), "john.smith2@example.com");
  assert.deepEqual(asked, ["john.smith2@example.com"]);
  assert.equal(counters.get("john.smith@example.com"), 3);
});

Deno.test("a long run of numbers the counter does not know costs a few lookups, and the next free one is taken", () => {
  const taken = new Set<string>();
  for (let n = 2; n <= 50_000; n++) taken.add(`john.smith${n}@example.com`);
  const { port, asked, counters } = portOver(taken);
  assert.equal(runSync(freeSuffixedSteps(JOHN), port), "john.smith50001@example.com");
  assert.ok(asked.length <= 2 * Math.log2(50_000) + 2, `${asked.length} lookups`);
  assert.ok(asked.every((login) => /^john\.smith\d+@example\.com$/.test(login)));
  assert.equal(counters.get("john.smith@example.com"), 50_002);
  // The counter remembers: the next one is a single lookup.
  asked.length = 0;
  taken.add("john.smith50001@example.com");
  assert.equal(runSync(freeSuffixedSteps(JOHN), port), "john.smith50002@example.com");
  assert.deepEqual(asked, ["john.smith50002@example.com"]);
});

Deno.test("a gap in the run is a free number like any other: never a taken one", () => {
  for (const holes of [[7], [3, 4], [1000], []]) {
    const taken = new Set<string>();
    for (let n = 2; n <= 1200; n++) {
      if (!holes.includes(n)) taken.add(`john.smith${n}@example.com`);
    }
    const { port } = portOver(taken);
    const login = runSync(freeSuffixedSteps(JOHN), port)!;
    assert.ok(!taken.has(loginKey(login)), login);
    assert.match(login, /^john\.smith\d+@example\.com$/);
  }
});

Deno.test("when every free number would be too long, there is none", () => {
  const local = "a".repeat(63);
  const taken = new Set<string>();
  for (let n = 2; n <= 9; n++) taken.add(`${local}${n}@example.com`);
  const { port, counters } = portOver(taken);
  assert.equal(runSync(freeSuffixedSteps({ local, domain: "example.com" }), port), null);
  assert.equal(counters.size, 0);
});
