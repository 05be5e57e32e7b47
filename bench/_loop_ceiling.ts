/**
 * The decision loop alone as an anchor for `deno task bench`: bench/commit_loop.ts (decide,
 * COMMIT and fdatasync of the WAL, as the worker runs them, without HTTP, TLS or threads) in
 * groups of N, run in the same session as the load. N clients that each wait for their answer
 * can at best all share one group, so its decisions/s bounds what any service built on this loop
 * serves at N connections, on this machine, this hour.
 */

/** decisions/s, one group's median time and the CPU of a decision, in groups of `group`. */
export interface LoopCeiling {
  readonly group: number;
  readonly perSecond: number;
  readonly groupP50Ms: number;
  /** User and system CPU of the loop's process per decision, µs. */
  readonly cpuUs: number;
}

/** Runs the loop in groups of `group` (`decisions` of them, at least 20 groups). */
export async function loopCeiling(group: number, decisions: number): Promise<LoopCeiling> {
  const output = await new Deno.Command("deno", {
    args: [
      "run",
      "--allow-read=data",
      "--allow-write=data",
      "bench/commit_loop.ts",
      `--decisions=${Math.max(decisions, group * 20)}`,
      `--group=${group}`,
      "--synchronous=NORMAL",
      "--wal-sync",
      "--json",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!output.success) throw new Error(`bench/commit_loop.ts --group=${group} failed`);
  const { perSecond, groupP50Ms, cpuUs } = JSON.parse(new TextDecoder().decode(output.stdout));
  return { group, perSecond, groupP50Ms, cpuUs };
}
