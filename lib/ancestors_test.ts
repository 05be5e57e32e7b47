import assert from "node:assert/strict";
import { goneFrom, launchChain, parseStat, readProcStats, type ReadStats } from "./ancestors.ts";

/** A stat line as /proc writes it, for a process named `name`. */
function line(pid: number, name: string, ppid: number, session: number, start = "100"): string {
  const rest = Array.from({ length: 40 }, (_, i) => String(i));
  rest[0] = "S";
  rest[1] = String(ppid);
  rest[2] = String(pid);
  rest[3] = String(session);
  rest[19] = start;
  return `${pid} (${name}) ${rest.join(" ")}\n`;
}

function table(lines: string[]): ReadStats {
  const byPid = new Map(lines.map((text) => [parseStat(text)!.pid, parseStat(text)!]));
  return (pids) =>
    Promise.resolve(new Map(pids.flatMap((pid) => byPid.has(pid) ? [[pid, byPid.get(pid)!]] : [])));
}

Deno.test("parseStat reads a name with spaces and parentheses", () => {
  const stat = parseStat(line(42, "deno task (x) y", 7, 3, "98765"));
  assert.deepEqual(stat, { pid: 42, ppid: 7, session: 3, startTime: "98765", state: "S" });
  assert.equal(parseStat("garbage"), null);
});

Deno.test("readProcStats reads this process's /proc line and leaves out a pid that is not there", async () => {
  const stats = await readProcStats([Deno.pid, 2 ** 22 + 1]);
  assert.equal(stats.size, 1);
  const self = stats.get(Deno.pid);
  assert.ok(self !== undefined);
  assert.equal(self.pid, Deno.pid);
  assert.equal(self.ppid, Deno.ppid);
});

Deno.test("the launch chain runs up to, not including, the session's leader", async () => {
  // bash (leads session 10) -> npx -> sh -> node -> deno task -> launcher
  const read = table([
    line(10, "bash", 1, 10),
    line(20, "npm exec", 10, 10),
    line(30, "sh", 20, 10),
    line(40, "node", 30, 10),
    line(50, "deno", 40, 10),
    line(60, "deno", 50, 10),
  ]);
  assert.deepEqual((await launchChain(60, read)).map((p) => p.pid), [50, 40, 30, 20]);
  // Started by systemd or a shell directly: nothing to watch.
  assert.deepEqual(await launchChain(20, read), []);
  assert.deepEqual(await launchChain(70, table([line(70, "deno", 1, 70)])), []);
});

Deno.test("goneFrom names an ancestor that exited, was reaped, or whose pid was reused", async () => {
  const chain = [parseStat(line(50, "deno", 40, 10))!, parseStat(line(40, "node", 30, 10))!];
  assert.equal(
    await goneFrom(chain, table([line(50, "deno", 40, 10), line(40, "node", 30, 10)])),
    null,
  );
  assert.equal((await goneFrom(chain, table([line(50, "deno", 40, 10)])))?.pid, 40);
  assert.equal(
    (await goneFrom(chain, table([line(50, "deno", 40, 10), line(40, "node", 30, 10, "555")])))
      ?.pid,
    40,
  );
  const zombie = line(40, "node", 30, 10).replace(") S ", ") Z ");
  assert.equal((await goneFrom(chain, table([line(50, "deno", 40, 10), zombie])))?.pid, 40);
});
