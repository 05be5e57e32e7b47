// deno-lint-ignore-file no-console -- benchmark output
/**
 * `deno task bench:scale`: what grows with the work.
 *
 * - Seeding: the real `deno task seed` command on generated CSV files of 1k, 100k and 1M logins,
 *   with its wall time and peak RSS (VmHWM of the seed process, polled).
 * - Decision cost with 1k, 100k and 1M logins in the index: `decideEvent` (the service's whole
 *   per-request database work) timed in process against the seeded files, 20% of the events
 *   colliding with seeded logins; each group of 16 is rolled back so the index keeps its size, and
 *   the sizes take turns group by group; the ratio to the smallest is the median of the passes' ratios.
 * - The 2nd vs the 10,000th `john.smith` in one batch of 10,000 committed decisions.
 * - Preview of 100k rows with `deno task preview`, once that command exists.
 *
 * Options: --sizes=1000,100000,1000000, --decisions=N per size and pass (4000), --keep.
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import type { DatabaseSync } from "node:sqlite";
import { AuditLog } from "../lib/store/sqlite_audit.ts";
import { STRATEGY_NAMES } from "../lib/config.ts";
import { openDatabase } from "../lib/store/database.ts";
import { decideEvent } from "../lib/decision/decide_event.ts";
import { commitGroup } from "../lib/store/group_commit.ts";
import { type HookEvent, readHookEvent } from "../lib/decision/hook_event.ts";
import { parseHookRequest } from "../lib/decision/hook_schema.ts";
import { LoginIndex, sqlitePort } from "../lib/store/sqlite_login_index.ts";
import type { Port } from "../lib/decision/steps.ts";
import { fixed, makeBenchDir, median, readProc, table } from "./_bench_utils.ts";
import { hookBody, seededRandom } from "./_okta_load.ts";
import { makeLogins, runTask, SYLLABLES, writeCsv } from "./_logins.ts";

const ATTRIBUTES = { ownerAttributes: ["employeeId"], middleNameAttribute: "middleName" };
const GROUP = 16;
const PASSES = 5;

function event(body: string): HookEvent {
  const parsed = parseHookRequest(body);
  if (!parsed.ok) throw new Error(parsed.summary);
  return eventOf(readHookEvent(parsed.value, ATTRIBUTES));
}

/** 80% new logins, 20% colliding with a seeded login (half flagged by Okta). */
function workload(tag: string, count: number, seeded: readonly string[]): HookEvent[] {
  const random = seededRandom(tag.length * 7919 + count);
  const pick = () => SYLLABLES[Math.floor(random() * SYLLABLES.length)]!;
  const events: HookEvent[] = [];
  for (let i = 0; i < count; i++) {
    const collides = i % 5 === 4;
    const login = collides
      ? seeded[Math.floor(random() * seeded.length)]!
      : `${pick()}${pick()}.${pick()}${pick()}${pick()}.${tag}${i}@corp.example`;
    events.push(event(hookBody({
      eventId: `${tag}-${i}`,
      login,
      employeeId: `${tag}-emp-${i}`,
      middleName: ["Alexander", "Marie", "Kenji", "Rosa"][i % 4]!,
      conflict: collides && i % 10 === 9,
      jobId: `job-${tag}`,
    })));
  }
  return events;
}

interface Stores {
  readonly db: DatabaseSync;
  readonly index: LoginIndex;
  readonly audit: AuditLog;
  readonly port: Port;
}

function stores(path: string): Stores {
  // As the decision worker opens it.
  const db = openDatabase(path, { journalsInMemory: true });
  const index = new LoginIndex(db);
  const audit = new AuditLog(db);
  return { db, index, audit, port: sqlitePort(index, audit) };
}

/**
 * Mean µs per `decideEvent` of each store's events, in groups rolled back so the index does not
 * grow. The stores take turns group by group, so a machine that slows down for a second (a VM's
 * neighbours) slows every size alike rather than the one being timed then.
 */
function timeDecisions(
  all: readonly Stores[],
  events: readonly (readonly HookEvent[])[],
): number[] {
  const totals = all.map(() => 0);
  const length = Math.max(...events.map((e) => e.length));
  for (let i = 0; i < length; i += GROUP) {
    all.forEach((s, k) => {
      s.db.exec("BEGIN IMMEDIATE");
      try {
        for (const e of events[k]!.slice(i, i + GROUP)) {
          const t = performance.now();
          decideEvent(e, s.port, STRATEGY_NAMES, {
            receivedAt: "2026-03-02T08:15:41.000Z",
            elapsedMs: 0,
          }, () => t);
          totals[k]! += performance.now() - t;
        }
      } finally {
        s.db.exec("ROLLBACK");
      }
    });
  }
  return totals.map((total, k) => (1000 * total) / events[k]!.length);
}

/** `count` requests from different people for `john.smith@<domain>`, without a middle name. */
function johnSmithEvents(domain: string, count: number): HookEvent[] {
  return Array.from({ length: count }, (_, i) =>
    event(hookBody({
      eventId: `js-${domain}-${i}`,
      login: `john.smith@${domain}`,
      employeeId: `js-${domain}-emp-${i}`,
      middleName: null,
      conflict: false,
      jobId: `job-js-${domain}`,
    })));
}

/** Per-decision µs of each event, decided and committed in groups of 256 as the worker does. */
function timeBatch(s: Stores, events: readonly HookEvent[]): number[] {
  const times: number[] = new Array(events.length);
  const work = (e: HookEvent, i: number) => () => {
    const t = performance.now();
    const decided = decideEvent(e, s.port, STRATEGY_NAMES, {
      receivedAt: "2026-03-02T08:15:41.000Z",
      elapsedMs: 0,
    }, () => t);
    times[i] = 1000 * (performance.now() - t);
    return decided;
  };
  for (let start = 0; start < events.length; start += 256) {
    const group = events.slice(start, start + 256).map((e, i) => work(e, start + i));
    for (const outcome of commitGroup(s.db, group)) if (!outcome.ok) throw outcome.error;
  }
  return times;
}

const { values: options } = parseArgs({
  args: Deno.args,
  options: {
    sizes: { type: "string", default: "1000,100000,1000000" },
    decisions: { type: "string", default: "4000" },
    keep: { type: "boolean", default: false },
  },
});
const sizes = options.sizes.split(",").map(Number);
const decisions = Number(options.decisions);
const largest = Math.max(...sizes);
const dir = await makeBenchDir("scale-");

try {
  const cpu = /^model name\s*:\s*(.*)$/m.exec(await readProc("/proc/cpuinfo"))?.[1];
  console.log(
    `machine: ${navigator.hardwareConcurrency} CPUs (${cpu}), deno ${Deno.version.deno}\n`,
  );

  const t = performance.now();
  const logins = makeLogins(largest);
  for (const size of sizes) {
    await writeCsv(join(dir, `logins-${size}.csv`), logins.slice(0, size), "login");
  }
  console.log(`generated CSV files in ${fixed((performance.now() - t) / 1000)} s\n`);

  console.log("## Seeding with `deno task seed`\n");
  const seedRows: string[][] = [];
  for (const size of sizes) {
    const file = join(dir, `logins-${size}.csv`);
    const run = await runTask("seed", [file], { DB_PATH: join(dir, `index-${size}.db`) });
    if (size === largest) console.log(`command: DB_PATH=... ${run.command}\n`);
    seedRows.push([
      String(size),
      fixed(run.seconds, 1),
      fixed(size / run.seconds, 0),
      fixed(run.peakMiB, 0),
    ]);
  }
  console.log(table(["logins", "seconds", "rows/s", "peak RSS MiB"], seedRows));

  console.log("\n## Decision cost by index size (decideEvent, µs per request)\n");
  const opened = sizes.map((size) => ({ size, s: stores(join(dir, `index-${size}.db`)) }));
  const perSize = new Map<number, number[]>(sizes.map((size) => [size, []]));
  try {
    // All requests are parsed before any timing, so their garbage is not collected mid-run.
    const workloads = Array.from(
      { length: PASSES + 1 },
      (_, pass) =>
        opened.map(({ size }) => workload(`w${pass}s${size}x`, decisions, logins.slice(0, size))),
    );
    for (let pass = 0; pass <= PASSES; pass++) {
      const us = timeDecisions(opened.map(({ s }) => s), workloads[pass]!);
      if (pass > 0) opened.forEach(({ size }, i) => perSize.get(size)!.push(us[i]!)); // 0 warms up
    }
    const base = perSize.get(sizes[0]!)!;
    console.log(table(
      [
        "logins in index",
        "µs/decision (median of 5)",
        "passes",
        `vs ${sizes[0]} (median of passes)`,
      ],
      sizes.map((size) => {
        const values = perSize.get(size)!;
        return [
          String(size),
          fixed(median(values), 1),
          values.map((v) => fixed(v, 1)).join(" "),
          `${fixed(median(values.map((v, pass) => v / base[pass]!)), 2)}x`,
        ];
      }),
    ));

    console.log("\n## The 2nd vs the 10,000th john.smith in one batch (µs per decision)\n");
    // Each batch in a database of its own, as a new import job's first john.smith.
    const batches = Array.from({ length: 6 }, (_, r) => johnSmithEvents(`r${r}.example`, 10_000));
    const runs: number[][] = [];
    for (const [r, batch] of batches.entries()) {
      const fresh = stores(join(dir, `john-smith-${r}.db`));
      try {
        runs.push(timeBatch(fresh, batch));
      } finally {
        fresh.db.close();
      }
    }
    runs.shift(); // the first batch warms up
    const second = median(runs.map((times) => times[1]!));
    const last = median(runs.map((times) => times[9_999]!));
    const early = median(runs.flatMap((times) => times.slice(1, 101)));
    const late = median(runs.flatMap((times) => times.slice(9_900, 10_000)));

    // The first numbered login of a base scans the numbered logins of that local part at every
    // domain: here 50,000 john.smithN at another domain.
    const crowded = stores(join(dir, "john-smith-crowded.db"));
    let crowdedSecond: number;
    try {
      crowded.db.exec("BEGIN IMMEDIATE");
      for (let n = 2; n <= 50_001; n++) {
        crowded.index.reserve({
          login: `john.smith${n}@other.example`,
          owner: null,
          requestedKey: null,
          strategy: "seed",
          source: "seed",
          eventId: null,
          at: "2026-03-02T08:15:41.000Z",
        });
      }
      crowded.db.exec("COMMIT");
      const times = timeBatch(crowded, johnSmithEvents("new.example", 3));
      crowdedSecond = times[1]!;
    } finally {
      crowded.db.close();
    }
    console.log(table(["which", "µs per decision"], [
      ["2nd (john.smith2), median of 5 batches", fixed(second, 1)],
      ["10,000th (john.smith10000), median of 5 batches", fixed(last, 1)],
      ["2nd to 101st, median", fixed(early, 1)],
      ...[1_000, 2_500, 5_000].map((at) => [
        `${at - 99}th to ${at}th, median`,
        fixed(median(runs.flatMap((times) => times.slice(at - 100, at))), 1),
      ]),
      ["9,901st to 10,000th, median", fixed(late, 1)],
      ["10,000th / 2nd (windows)", `${fixed(late / early, 2)}x`],
      ["2nd at a new domain, 50,000 john.smithN at another", fixed(crowdedSecond, 1)],
    ]));
  } finally {
    for (const { s } of opened) s.db.close();
  }

  console.log("\n## Preview of 100k rows\n");
  const config = JSON.parse(await Deno.readTextFile("deno.json"));
  if (config.tasks?.preview === undefined) {
    console.log("preview: not available yet (no `preview` task in deno.json)");
  } else {
    const file = join(dir, "users-100k.csv");
    const random = seededRandom(7);
    const pick = () => SYLLABLES[Math.floor(random() * SYLLABLES.length)]!;
    await writeCsv(
      file,
      Array.from({ length: 100_000 }, (_, i) => {
        const first = `${pick()}${pick()}`;
        const last = `${pick()}${pick()}${pick()}`;
        const login = `${first}.${last}@corp.example`;
        return `E${i},${login},${first},${pick()}${pick()},${last},${login}`;
      }),
      "employeeId,userName,firstName,middleName,lastName,email",
    );
    const run = await runTask("preview", [file], { DB_PATH: join(dir, `index-${largest}.db`) });
    console.log(`command: DB_PATH=<${largest}-login index> ${run.command}`);
    console.log(
      `preview of 100000 rows against ${largest} logins: ${fixed(run.seconds, 1)} s, ` +
        `peak RSS ${fixed(run.peakMiB, 0)} MiB`,
    );
  }
} finally {
  if (!options.keep) await Deno.remove(dir, { recursive: true });
}

function eventOf(result: ReturnType<typeof readHookEvent>): HookEvent {
  if (!result.ok) throw new TypeError(`Bench event refused: ${JSON.stringify(result.problems)}`);
  return result.event;
}
