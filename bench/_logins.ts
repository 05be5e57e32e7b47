/**
 * Made-up logins for the benchmarks, and a deno task run with its time and peak memory: what
 * `bench:scale` seeds its indexes with and `bench --logins=N` its service's.
 */

import { peakRssMiB, shown, taskArgs } from "./_bench_utils.ts";
import { seededRandom } from "./_okta_load.ts";

/** Syllables of made-up names. */
export const SYLLABLES = [
  "an",
  "be",
  "ca",
  "da",
  "el",
  "fi",
  "ga",
  "ha",
  "jo",
  "ka",
  "li",
  "ma",
  "ne",
  "ol",
  "pa",
  "ri",
  "sa",
  "ta",
  "vi",
  "wa",
  "yo",
  "zu",
  "mo",
  "ru",
  "se",
  "th",
  "do",
  "ki",
  "lu",
  "na",
  "re",
  "so",
];

/** Seeded logins `first.last[N]@corp.example`, numbered like an Okta org's duplicates. */
export function makeLogins(count: number): string[] {
  const random = seededRandom(42);
  const pick = () => SYLLABLES[Math.floor(random() * SYLLABLES.length)]!;
  const seen = new Map<string, number>();
  const logins: string[] = [];
  for (let i = 0; i < count; i++) {
    const base = `${pick()}${pick()}.${pick()}${pick()}${pick()}`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    logins.push(`${base}${n === 1 ? "" : n}@corp.example`);
  }
  return logins;
}

/** Writes `rows` under `header` to `file`, one per line. */
export async function writeCsv(
  file: string,
  rows: Iterable<string>,
  header: string,
): Promise<void> {
  const out = await Deno.open(file, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  try {
    let chunk = `${header}\n`;
    for (const row of rows) {
      chunk += `${row}\n`;
      if (chunk.length > 1 << 20) {
        await out.write(encoder.encode(chunk));
        chunk = "";
      }
    }
    await out.write(encoder.encode(chunk));
  } finally {
    out.close();
  }
}

/** Runs a deno task's command with `extra` arguments; returns seconds, peak RSS and output. */
export async function runTask(
  name: string,
  extra: string[],
  env: Record<string, string>,
): Promise<{ seconds: number; peakMiB: number; output: string; command: string }> {
  const args = await taskArgs(name, extra, env);
  const started = performance.now();
  const child = new Deno.Command("deno", { args, env, stdout: "piped", stderr: "piped" }).spawn();
  let peak = 0;
  let running = true;
  const poll = (async () => {
    while (running) {
      peak = Math.max(peak, (await peakRssMiB(child.pid)) ?? 0);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  const output = await child.output();
  const seconds = (performance.now() - started) / 1000;
  running = false;
  await poll;
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  if (!output.success) throw new Error(`deno task ${name} failed: ${text}`);
  return { seconds, peakMiB: peak, output: text, command: shown("deno", args) };
}
