/**
 * Runs a `deno task` the way an admin would: the real task with its real permissions, in the
 * project directory, with only the environment given (plus what Deno itself needs).
 */

/** What a finished task printed and returned. */
export interface TaskResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Variables passed through so `deno` finds itself and its cache. */
const PASSED_THROUGH = ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME", "TMPDIR"];

/** Runs `deno task <task> ...args` with `env` (and no other variables of ours). */
export async function runTask(
  task: string,
  args: string[],
  env: Record<string, string>,
): Promise<TaskResult> {
  const base: Record<string, string> = { NO_COLOR: "1" };
  for (const name of PASSED_THROUGH) {
    const value = Deno.env.get(name);
    if (value !== undefined) base[name] = value;
  }
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", task, ...args],
    cwd: new URL("..", import.meta.url),
    env: { ...base, ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}
