/**
 * What an operator reads agrees with the code: `start --help` lists every setting from the one
 * command table, every task's `--help` gives its exit codes, and the sample settings file names
 * every setting the unit does not set, each one the service reads and accepts as written.
 */

import assert from "node:assert/strict";
import { COMMANDS } from "../lib/commands.ts";
import { parseConfig, type RawEnv } from "../lib/config.ts";
import { runTask } from "./_run_task.ts";
import { VERSION } from "../lib/version.ts";

const SETTINGS = new URL("../deploy/okta-import-hook.env", import.meta.url);
/** Set by the unit itself (deploy/okta-import-hook.service), not by the settings file. */
const SET_BY_UNIT = ["DB_PATH", "TLS_CERT_FILE", "TLS_KEY_FILE"];
/** Read only to warn that it is ignored (BIND_ADDRESS is the bind address). */
const IGNORED = ["HOSTNAME"];

Deno.test("start --help lists every setting of the command table, and every task's --help its exit codes", async () => {
  const tasks = ["start", "seed", "sync", "register", "preview", "audit"];
  const helps = await Promise.all(tasks.map((task) => runTask(task, ["--help"], {})));
  helps.forEach((help, i) => {
    assert.equal(help.code, 0, `${tasks[i]}: ${help.stderr}`);
    assert.match(help.stdout, /^Exit codes: 0 /m, tasks[i]);
  });
  const start = helps[0]!.stdout.replace(/\n/g, " ");
  for (const name of COMMANDS.serve!.variables.filter((name) => !IGNORED.includes(name))) {
    assert.match(start, new RegExp(`\\b${name}\\b`), name);
  }
});

Deno.test("every task answers --version with the service's version and Deno's", async () => {
  const tasks = ["start", "seed", "sync", "register", "preview", "audit"];
  for (const task of tasks) {
    const result = await runTask(task, ["--version"], {});
    assert.equal(result.code, 0, `${task}: ${result.stderr}`);
    assert.equal(result.stdout, `okta-import-hook ${VERSION} (deno ${Deno.version.deno})\n`, task);
  }
});

Deno.test("the sample settings file names every setting, each one the service reads, and its values start the service's config", async () => {
  const lines = (await Deno.readTextFile(SETTINGS)).split("\n");
  const entries = lines
    .map((line) => /^#?([A-Z_]+)=(.*)$/.exec(line))
    .filter((m) => m !== null)
    .map((m) => [m[1]!, m[2]!] as const);
  const named = entries.map(([name]) => name);
  const known = COMMANDS.serve!.variables;
  assert.deepEqual(named.filter((name) => !known.includes(name) || IGNORED.includes(name)), []);
  assert.deepEqual(
    known.filter((name) =>
      !named.includes(name) && !SET_BY_UNIT.includes(name) && !IGNORED.includes(name)
    ),
    [],
  );
  // What is set uncommented is accepted as written.
  const set = Object.fromEntries(
    lines.map((line) => /^([A-Z_]+)=(.*)$/.exec(line)).filter((m) => m !== null).map((m) => [
      m[1]!,
      m[2]!,
    ]),
  ) as RawEnv;
  assert.ok(set.HOOK_AUTH_SECRET);
  parseConfig(set);
});
