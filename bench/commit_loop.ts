// deno-lint-ignore-file no-console -- benchmark output
/**
 * The database worker's loop without HTTP or threads: Okta-shaped decisions (the load of
 * bench/load.lua) run through `commitGroup` in groups on a fresh file, as the worker runs them.
 * Prints decisions/s, the time of one group (p50/p90/p99/max), the process's CPU per decision
 * (user and system, the fdatasync's included) and the WAL bytes per decision.
 *
 * Usage: deno run --allow-read=data --allow-write=data bench/commit_loop.ts \
 *   [--decisions=40000] [--group=8] [--synchronous=FULL] [--autocheckpoint=1000] [--wal-sync]
 *   [--json]
 *
 * --wal-sync fdatasyncs the -wal file after each group's COMMIT, as the worker does with
 * synchronous=NORMAL. --json prints one JSON object (`deno task bench` reads it).
 */

import { parseArgs } from "node:util";
import process from "node:process";
import { AuditLog } from "../lib/store/sqlite_audit.ts";
import { STRATEGY_NAMES } from "../lib/config.ts";
import { openDatabase } from "../lib/store/database.ts";
import { decideEvent } from "../lib/decision/decide_event.ts";
import { commitGroup } from "../lib/store/group_commit.ts";
import { type HookEvent, readHookEvent } from "../lib/decision/hook_event.ts";
import { parseHookRequest } from "../lib/decision/hook_schema.ts";
import { LoginIndex, sqlitePort } from "../lib/store/sqlite_login_index.ts";
import { fixed, makeBenchDir } from "./_bench_utils.ts";
import { loadBodies } from "./_okta_load.ts";

const { values } = parseArgs({
  options: {
    decisions: { type: "string", default: "40000" },
    group: { type: "string", default: "8" },
    synchronous: { type: "string", default: "FULL" },
    autocheckpoint: { type: "string", default: "1000" },
    "wal-sync": { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  },
});
const count = Number(values.decisions);
const group = Number(values.group);
const synchronous = values.synchronous.toUpperCase();
const autocheckpoint = Number(values.autocheckpoint);
if (
  !(count > 0 && group > 0 && autocheckpoint >= 0) ||
  !["OFF", "NORMAL", "FULL"].includes(synchronous)
) {
  console.error(
    "Usage: commit_loop.ts [--decisions=N] [--group=N] [--synchronous=OFF|NORMAL|FULL]",
  );
  console.error("                      [--autocheckpoint=PAGES]");
  Deno.exit(2);
}

const ATTRIBUTES = { ownerAttributes: ["employeeId"], middleNameAttribute: "middleName" };
const bodies = loadBodies("loop");
const events: HookEvent[] = [];
for (let i = 0; i < count; i++) {
  const parsed = parseHookRequest(bodies.next().value!);
  if (!parsed.ok) throw new Error(parsed.summary);
  events.push(eventOf(readHookEvent(parsed.value, ATTRIBUTES)));
}

const dir = await makeBenchDir("loop-");
const db = openDatabase(`${dir}/hook.db`);
db.exec(`PRAGMA synchronous = ${synchronous}`);
db.exec(`PRAGMA wal_autocheckpoint = ${autocheckpoint}`);
const port = sqlitePort(new LoginIndex(db), new AuditLog(db));
db.prepare("SELECT count(*) FROM logins").get();
const wal = values["wal-sync"] ? Deno.openSync(`${dir}/hook.db-wal`, { read: true }) : null;
const timing = { receivedAt: "2026-03-02T08:15:41.000Z", elapsedMs: 0 };

const groupMs: number[] = [];
const cpuBefore = process.cpuUsage();
const started = performance.now();
for (let i = 0; i < count; i += group) {
  const works = events.slice(i, i + group).map((event) => () =>
    decideEvent(event, port, STRATEGY_NAMES, timing, () => 0)
  );
  const before = performance.now();
  commitGroup(db, works);
  wal?.syncDataSync();
  groupMs.push(performance.now() - before);
}
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
const cpuUs = (cpu.user + cpu.system) / count;
const walBytes = (await Deno.stat(`${dir}/hook.db-wal`)).size;
db.close();
wal?.close();
await Deno.remove(dir, { recursive: true });

groupMs.sort((a, b) => a - b);
const quantile = (q: number) => groupMs[Math.floor(q * (groupMs.length - 1))]!;
const at = (q: number) => fixed(quantile(q), 3);
if (values.json) {
  console.log(JSON.stringify({ perSecond: count / seconds, groupP50Ms: quantile(0.5), cpuUs }));
  Deno.exit(0);
}
console.log(
  `${count} decisions in groups of ${group}, synchronous=${synchronous}${
    wal ? " + fdatasync(-wal)" : ""
  }, ` +
    `wal_autocheckpoint=${autocheckpoint}: ${fixed(count / seconds, 0)} decisions/s; ` +
    `one group p50 ${at(0.5)} p90 ${at(0.9)} p99 ${at(0.99)} max ${at(1)} ms; ` +
    `CPU ${fixed(cpuUs, 1)} µs a decision; ` +
    `WAL file ${fixed(walBytes / 1e6, 1)} MB` +
    (autocheckpoint === 0 ? ` (${fixed(walBytes / count / 1024, 1)} KiB per decision)` : ""),
);

function eventOf(result: ReturnType<typeof readHookEvent>): HookEvent {
  if (!result.ok) throw new TypeError(`Bench event refused: ${JSON.stringify(result.problems)}`);
  return result.event;
}
