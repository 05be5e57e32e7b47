/**
 * The layers of docs/architecture.md, checked on the source: imports only go down, no module
 * imports itself through others, and the rule in decision/ knows no engine and no HTTP.
 */

import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";

const LIB = new URL(".", import.meta.url).pathname;

/** Each folder's place in the picture: a module may import only from a lower rank or its own folder. */
const RANK: Record<string, number> = {
  "": 0, // config.ts, log.ts, addresses.ts
  decision: 1,
  store: 2,
  okta: 3,
  hook: 3,
  admin: 4,
  launch: 5,
};

async function modules(dir = LIB): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) found.push(...await modules(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) found.push(path);
  }
  return found.sort();
}

/** The modules `path` imports (relative specifiers, resolved), and its other specifiers. */
async function importsOf(path: string): Promise<{ local: string[]; other: string[] }> {
  const text = await Deno.readTextFile(path);
  const specifiers = [...text.matchAll(/^(?:import|export)[^;]*? from "([^"]+)";/gms)].map((m) =>
    m[1]!
  );
  return {
    local: specifiers.filter((s) => s.startsWith(".")).map((s) => join(dirname(path), s)),
    other: specifiers.filter((s) => !s.startsWith(".")),
  };
}

function layerOf(path: string): string {
  const rel = relative(LIB, path);
  if (rel === "launch.ts") return "launch";
  return rel.includes("/") ? rel.slice(0, rel.indexOf("/")) : "";
}

Deno.test("lib/ imports only go down the layers", async () => {
  const wrong: string[] = [];
  for (const path of await modules()) {
    const from = layerOf(path);
    for (const target of (await importsOf(path)).local) {
      const to = layerOf(target);
      if (to !== from && !(RANK[to]! < RANK[from]!)) {
        wrong.push(`${relative(LIB, path)} -> ${relative(LIB, target)}`);
      }
    }
  }
  assert.deepEqual(wrong, []);
});

Deno.test("no module of lib/ imports itself through others", async () => {
  const graph = new Map<string, string[]>();
  for (const path of await modules()) graph.set(path, (await importsOf(path)).local);
  const cycles: string[] = [];
  const state = new Map<string, "open" | "done">();
  const visit = (node: string, trail: string[]) => {
    if (state.get(node) === "done") return;
    if (state.get(node) === "open") {
      cycles.push(
        [...trail.slice(trail.indexOf(node)), node].map((p) => relative(LIB, p)).join(
          " -> ",
        ),
      );
      return;
    }
    state.set(node, "open");
    for (const next of graph.get(node) ?? []) visit(next, [...trail, node]);
    state.set(node, "done");
  };
  for (const node of graph.keys()) visit(node, []);
  assert.deepEqual(cycles, []);
});

Deno.test("decision/ is the rule alone: no database, no HTTP, no module state", async () => {
  const found: string[] = [];
  for (const path of await modules(join(LIB, "decision"))) {
    const name = relative(LIB, path);
    const text = await Deno.readTextFile(path);
    for (const specifier of (await importsOf(path)).other) {
      if (specifier.startsWith("node:")) found.push(`${name} imports ${specifier}`);
    }
    if (/\bnew (Response|Request|Headers)\b|\bDeno\.serve\b/.test(text)) {
      found.push(`${name} builds HTTP`);
    }
    // Top-level mutable bindings and caches: every answer must depend on the arguments alone.
    for (const match of text.matchAll(/^(let |var |const \w+ = new (Map|WeakMap|Set)\b)/gm)) {
      found.push(`${name} keeps state: ${match[0]}`);
    }
  }
  assert.deepEqual(found, []);
});

Deno.test("SQL lives in store/ only", async () => {
  const statement =
    /\b(INSERT INTO|DELETE FROM|CREATE (TEMP )?(TABLE|VIEW|INDEX)|SELECT [^`"\n]* FROM|UPDATE \w+ SET)\b|\.prepare\(|\bsql`/;
  const found: string[] = [];
  for (const path of await modules()) {
    if (layerOf(path) === "store") continue;
    const text = await Deno.readTextFile(path);
    const match = statement.exec(text);
    if (match) found.push(`${relative(LIB, path)}: ${match[0]}`);
  }
  assert.deepEqual(found, []);
});
