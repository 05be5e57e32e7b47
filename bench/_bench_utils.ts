/**
 * Helpers shared by the benchmarks: the project's own task commands as subprocesses, CPU and
 * memory figures from /proc, a free loopback port, a TLS pair on disk, and number formatting.
 */

import { join } from "node:path";
import { createSelfSignedCertificate } from "../lib/hook/dev_credentials.ts";
import { launch } from "../lib/launch.ts";

/** Where benchmarks write; removed after each run unless asked to keep it. */
export const BENCH_DIR = "data/bench-tmp";

/** The secret every benchmark's service accepts (`HOOK_AUTH_SECRET`) and its load sends. */
export const SECRET = "bench-secret-0123456789abcdef";

/** Clock ticks per second in /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/**
 * The argument list (without the leading `deno`) of the process `deno task NAME ...extra` runs
 * with the settings `env`, with its permissions, so a benchmark measures and stops that very
 * process: for a task that goes through lib/launch.ts, the command line the launcher derives.
 */
export async function taskArgs(
  name: string,
  extra: readonly string[] = [],
  env: Record<string, string> = {},
): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile("deno.json"));
  const task = config.tasks?.[name];
  const command: unknown = typeof task === "string" ? task : task?.command;
  if (typeof command !== "string") throw new RangeError(`Cannot find task "${name}" in deno.json`);
  const [program, ...args] = command.trim().split(/\s+/);
  if (program !== "deno") throw new RangeError(`Cannot run task "${name}": it does not run deno`);
  const launcher = args.indexOf("lib/launch.ts");
  if (launcher === -1) return [...args, ...extra];
  const [subcommand = "serve", ...given] = args.slice(launcher + 1);
  const places = { cwd: Deno.cwd(), project: Deno.cwd() };
  return launch(subcommand, [...given, ...extra], env, places).args;
}

/** The command line of `args` for the report, with the deno binary named `deno`. */
export function shown(program: string, args: readonly string[]): string {
  return [program, ...args].join(" ");
}

/**
 * The text of a /proc file. Deno refuses to read /proc without --allow-all, so `cat` reads it
 * (--allow-run=cat); the benchmarks call this only between measurements.
 */
export async function readProc(path: string): Promise<string> {
  const output = await new Deno.Command("cat", { args: [path], stderr: "null" }).output();
  if (!output.success) throw new Deno.errors.NotFound(`Cannot read ${path}`);
  return new TextDecoder().decode(output.stdout);
}

/** User plus system CPU seconds used so far by process `pid`. */
export async function processCpuSeconds(pid: number): Promise<number> {
  const text = await readProc(`/proc/${pid}/stat`);
  // The command name (field 2) may hold spaces; utime and stime are fields 14 and 15.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** Peak resident set size (VmHWM) of process `pid` in MiB, or `null` once it is gone. */
export async function peakRssMiB(pid: number): Promise<number | null> {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(await readProc(`/proc/${pid}/status`));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** TCP connections this machine opened so far (`ActiveOpens` in /proc/net/snmp). */
export async function tcpActiveOpens(): Promise<number> {
  const lines = (await readProc("/proc/net/snmp")).split("\n").filter((line) =>
    line.startsWith("Tcp:")
  );
  const names = lines[0]?.split(/\s+/) ?? [];
  const values = lines[1]?.split(/\s+/) ?? [];
  return Number(values[names.indexOf("ActiveOpens")]);
}

/** CPU model, core count, memory and deno version, for the report. */
export async function machine(): Promise<string> {
  const cpu = /^model name\s*:\s*(.*)$/m.exec(await readProc("/proc/cpuinfo"))?.[1];
  const memKb = Number(/^MemTotal:\s+(\d+)/m.exec(await readProc("/proc/meminfo"))?.[1]);
  return `machine: ${navigator.hardwareConcurrency} CPUs (${cpu ?? "unknown"}), ${
    (memKb / 1024 / 1024).toFixed(1)
  } GiB RAM, deno ${Deno.version.deno}`;
}

/** A loopback port that was free a moment ago. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** A fresh directory under {@link BENCH_DIR}. */
export async function makeBenchDir(prefix: string): Promise<string> {
  await Deno.mkdir(BENCH_DIR, { recursive: true });
  return await Deno.makeTempDir({ dir: BENCH_DIR, prefix });
}

/** Writes a new self-signed certificate for 127.0.0.1 into `dir`; returns the files and PEM. */
export async function writeCertificate(
  dir: string,
): Promise<{ certFile: string; keyFile: string; cert: string }> {
  const pair = await createSelfSignedCertificate();
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  await Deno.writeTextFile(certFile, pair.cert);
  await Deno.writeTextFile(keyFile, pair.key, { mode: 0o600 });
  return { certFile, keyFile, cert: pair.cert };
}

/** Waits until `url` answers over TLS trusting `cert`, or throws after `timeoutMs`. */
export async function waitUntilUp(url: string, cert: string, timeoutMs = 20_000): Promise<void> {
  const client = Deno.createHttpClient({ caCerts: [cert] });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      try {
        const response = await fetch(url, { client });
        await response.body?.cancel();
        if (response.status < 500) return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`Cannot reach ${url}`, { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    client.close();
  }
}

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A value with `digits` decimals. */
export function fixed(value: number, digits = 1): string {
  return value.toFixed(digits);
}

/** Rows as a Markdown table, columns padded for the terminal. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
