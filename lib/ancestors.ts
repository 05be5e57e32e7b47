/**
 * The processes that started this one, so the launcher can stop the service when they go.
 * `npx` runs `sh`, which runs Deno's npm wrapper (node), which runs `deno task`, which runs the
 * launcher: a SIGTERM or SIGKILL to `npx` ends `npx` alone, and the rest would serve on, holding
 * the port. There is no parent-death signal in Deno, so the launcher notes its ancestors once
 * (from /proc) and checks now and then that each is still the same process.
 */

/** A process as its `/proc/PID/stat` line tells it. */
export interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  /** The session id: a login shell, a terminal's shell or a systemd service leads its own. */
  readonly session: number;
  /** Clock ticks after boot: with the pid, it tells a process from a later one given its pid. */
  readonly startTime: string;
  /** `Z` for a zombie (dead, not yet reaped), `X` for dead. */
  readonly state: string;
}

/** Reads a `/proc/PID/stat` line, or `null` when it is not one. */
export function parseStat(line: string): ProcStat | null {
  // The command name is in parentheses and may itself hold spaces and parentheses.
  const close = line.lastIndexOf(")");
  const pid = Number.parseInt(line, 10);
  if (close < 0 || !Number.isInteger(pid)) return null;
  const fields = line.slice(close + 2).trim().split(" ");
  // After the name: state(3) ppid(4) pgrp(5) session(6) ... starttime(22), 1-based as in proc(5).
  const state = fields[0];
  const ppid = Number(fields[1]);
  const session = Number(fields[3]);
  const startTime = fields[19];
  if (state === undefined || startTime === undefined) return null;
  if (!Number.isInteger(ppid) || !Number.isInteger(session)) return null;
  return { pid, ppid, session, startTime, state };
}

/** Reads the stat lines of `pids`; a process that has gone is missing from the answer. */
export type ReadStats = (pids: readonly number[]) => Promise<Map<number, ProcStat>>;

/**
 * The ancestors of `pid` that belong to the command that started it: parent, grandparent and so
 * on, up to but not including the first session leader or pid 1. A shell that started the task
 * (`nohup npx deno task start &` included) leads its session and is not watched; `npx`, `sh`,
 * `node` and `deno task` are.
 */
export async function launchChain(pid: number, read: ReadStats): Promise<ProcStat[]> {
  const chain: ProcStat[] = [];
  let current = (await read([pid])).get(pid);
  while (current !== undefined && current.ppid > 1 && chain.length < 64) {
    const parent = (await read([current.ppid])).get(current.ppid);
    if (parent === undefined || parent.pid === parent.session) break;
    chain.push(parent);
    current = parent;
  }
  return chain;
}

/** The first process of `chain` that has gone (or is another process under its pid), if any. */
export async function goneFrom(
  chain: readonly ProcStat[],
  read: ReadStats,
): Promise<ProcStat | null> {
  const now = await read(chain.map((noted) => noted.pid));
  for (const noted of chain) {
    const seen = now.get(noted.pid);
    if (
      seen === undefined || seen.startTime !== noted.startTime || seen.state === "Z" ||
      seen.state === "X"
    ) {
      return noted;
    }
  }
  return null;
}

/**
 * Reads `/proc/PID/stat` of each pid with `cat`: Deno lets a process read another's /proc
 * entries only with every permission, which the launcher does not take.
 */
export async function readProcStats(pids: readonly number[]): Promise<Map<number, ProcStat>> {
  const found = new Map<number, ProcStat>();
  try {
    const output = await new Deno.Command("cat", {
      args: pids.map((pid) => `/proc/${pid}/stat`),
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    for (const line of new TextDecoder().decode(output.stdout).split("\n")) {
      const stat = parseStat(line);
      if (stat !== null) found.set(stat.pid, stat);
    }
  } catch {
    // No cat, or no /proc: nothing is known, so nothing is watched.
  }
  return found;
}

/**
 * Calls `onGone` once when a process of this one's launch chain has gone, checking every
 * `intervalMs`. Resolves to the function that stops watching. Where there is no /proc, or no
 * chain (started by systemd or a shell directly), there is nothing to watch.
 */
export async function watchLaunchChain(
  onGone: (gone: ProcStat) => void,
  intervalMs = 1000,
  read: ReadStats = readProcStats,
): Promise<() => void> {
  const chain = await launchChain(Deno.pid, read);
  if (chain.length === 0) return () => {};
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const check = async () => {
    const gone = await goneFrom(chain, read);
    if (stopped) return;
    if (gone !== null) return onGone(gone);
    timer = setTimeout(check, intervalMs);
  };
  timer = setTimeout(check, intervalMs);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
