/**
 * The real service as its own process, started as the `start` task starts it: for the tests
 * that signal it, kill it or starve it.
 */

import assert from "node:assert/strict";
import { createSelfSignedCertificate } from "../lib/hook/dev_credentials.ts";
import { launch } from "../lib/launch.ts";
import { TEST_SECRET, withDeadline } from "./_test_utils.ts";

/**
 * The command line the `start` task's launcher derives for `env`, run with this Deno binary:
 * the test runs (and kills) the real service process itself.
 */
export async function startCommand(env: Record<string, string> = {}): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  assert.match(config.tasks.start.command, /^deno run .* lib\/launch\.ts serve$/);
  return launch("serve", [], env, PROJECT).args;
}

export const PROJECT = (() => {
  const project = new URL("..", import.meta.url).pathname;
  return { cwd: project, project };
})();

export interface Started {
  readonly child: Deno.ChildProcess;
  readonly lines: string[];
  /** Resolves with the next log line that matches `pattern`. */
  nextLine(pattern: RegExp): Promise<string>;
  readonly url: string;
  readonly client: Deno.HttpClient;
  readonly done: Promise<void>;
}

/**
 * Spawns `main.ts serve` with the start task's permissions on a port the OS picks, and waits
 * (with a deadline, failing if the child exits first) for "Listening", which names the port.
 */
export async function spawnService(
  dir: string,
  options: { env?: Record<string, string>; openFiles?: number } = {},
): Promise<Started> {
  const pair = await createSelfSignedCertificate();
  await Deno.writeTextFile(`${dir}/cert.pem`, pair.cert);
  await Deno.writeTextFile(`${dir}/key.pem`, pair.key);
  const env = {
    ...options.env,
    NO_COLOR: "1",
    PORT: "0",
    BIND_ADDRESS: "127.0.0.1",
    HOOK_AUTH_SECRET: TEST_SECRET,
    DB_PATH: `${dir}/hook.db`,
    TLS_CERT_FILE: `${dir}/cert.pem`,
    TLS_KEY_FILE: `${dir}/key.pem`,
  };
  const command = [Deno.execPath(), ...await startCommand(env)];
  // With a limit on open files, a shell sets it and then becomes the service.
  const [program, ...args] = options.openFiles === undefined
    ? command
    : ["sh", "-c", `ulimit -n ${options.openFiles} && exec "$@"`, "sh", ...command];
  const child = new Deno.Command(program!, {
    args,
    cwd: new URL("..", import.meta.url),
    env,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines: string[] = [];
  const waiting: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const nextLine = (pattern: RegExp) =>
    new Promise<string>((resolve) => waiting.push({ pattern, resolve }));
  const ready = Promise.withResolvers<string>();
  const done = (async () => {
    let buffer = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      const parts = buffer.split("\n");
      buffer = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        if (line.includes('"msg":"Listening"')) ready.resolve(JSON.parse(line).url);
        for (const w of waiting.filter((w) => w.pattern.test(line))) {
          waiting.splice(waiting.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
    ready.reject(new Error(`The service exited before listening: ${lines.join("\n")}`));
  })();
  const listening = new URL(await withDeadline(ready.promise, 20_000, "the Listening line"));
  const client = Deno.createHttpClient({ caCerts: [pair.cert] });
  const url = `https://localhost:${listening.port}/hooks/import`;
  return { child, lines, nextLine, url, client, done };
}
