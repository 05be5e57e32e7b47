/**
 * The Dockerfile, built and run without a container engine (tests/_image.ts): its build steps
 * carried out in a Debian root file system, then its entrypoint as PID 1 of its own PID namespace,
 * as its non-root user, with the image's environment and Docker's `HOSTNAME`.
 */

import assert from "node:assert/strict";
import { buildImage, type Image, inImage, removeImage, runEnv } from "./_image.ts";
import { TEST_SECRET, withDeadline } from "./_test_utils.ts";

/** A port free on the host now (the container shares the host's network here). */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

interface Running {
  readonly child: Deno.ChildProcess;
  readonly lines: string[];
  /** Resolves with the first log line matching `pattern`. */
  line(pattern: RegExp): Promise<string>;
  readonly stderr: Promise<string>;
}

/** `docker run IMAGE` with `env` added (`-e`). */
function run(image: Image, env: Record<string, string>): Running {
  const argv = inImage(image, image.entrypoint, { pidNamespace: true });
  const child = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    env: runEnv(image, env),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  (async () => {
    let rest = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      rest += chunk;
      const parts = rest.split("\n");
      rest = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        for (const w of waiters.filter((w) => w.pattern.test(line))) w.resolve(line);
      }
    }
  })();
  const line = (pattern: RegExp) =>
    new Promise<string>((resolve) => {
      const seen = lines.find((l) => pattern.test(l));
      if (seen !== undefined) resolve(seen);
      else waiters.push({ pattern, resolve });
    });
  const stderr = new Response(child.stderr).text();
  return { child, lines, line, stderr };
}

/** Runs the image's HEALTHCHECK command as Docker does (`exec` in the container); its exit code. */
async function healthcheck(image: Image, env: Record<string, string>): Promise<number> {
  const argv = inImage(image, image.healthcheck);
  const output = await new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    env: runEnv(image, env),
    clearEnv: true,
    stdout: "null",
    stderr: "null",
  }).output();
  return output.code;
}

/** The host pid of the container's PID 1: unshare's one child (Deno reads /proc only via cat). */
async function pidOne(unshare: number): Promise<number> {
  const output = await new Deno.Command("cat", {
    args: [`/proc/${unshare}/task/${unshare}/children`],
    stdout: "piped",
  }).output();
  const pid = Number(new TextDecoder().decode(output.stdout).trim().split(" ")[0]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`unshare ${unshare} has no child`);
  return pid;
}

/** `docker kill`: ends a container a failed test left running, before its files are removed. */
async function kill(running: Running | undefined): Promise<void> {
  if (running === undefined) return;
  const status = await Promise.race([running.child.status, Promise.resolve(null)]);
  if (status !== null) return;
  try {
    Deno.kill(await pidOne(running.child.pid), "SIGKILL");
  } catch { /* gone meanwhile */ }
  await running.child.status;
  await running.stderr;
}

async function post(port: number, body: string): Promise<{ status: number; body: string }> {
  const output = await new Deno.Command("curl", {
    args: [
      "-sk",
      "-o",
      "-",
      "-w",
      "\n%{http_code}",
      "-H",
      `Authorization: ${TEST_SECRET}`,
      "-H",
      "Content-Type: application/json",
      "--data-binary",
      "@-",
      `https://127.0.0.1:${port}/hooks/import`,
    ],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const writer = output.stdin.getWriter();
  await writer.write(new TextEncoder().encode(body));
  await writer.close();
  const text = new TextDecoder().decode((await output.output()).stdout);
  const cut = text.lastIndexOf("\n");
  return { status: Number(text.slice(cut + 1)), body: text.slice(0, cut) };
}

Deno.test("the Dockerfile builds on Debian with Deno from npm and runs as a non-root user with its database on the volume", async () => {
  const image = await withDeadline(buildImage(), 600_000, "the image to build");
  let first: Running | undefined;
  let second: Running | undefined;
  try {
    assert.equal(image.user, "okta-hook");
    assert.deepEqual(image.volumes, ["/opt/okta-import-hook/data"]);
    assert.equal(image.env.BIND_ADDRESS, "0.0.0.0");
    const volume = `${image.rootfs}/opt/okta-import-hook/data`;
    const owner = Deno.statSync(volume);
    assert.equal(owner.uid, 10001, "the volume belongs to the service's user");
    assert.equal(owner.mode! & 0o777, 0o700);

    const port = freePort();
    const env = { PORT: String(port), HOOK_AUTH_SECRET: TEST_SECRET };
    assert.notEqual(await healthcheck(image, env), 0, "unhealthy before it runs");
    const fixture = await Deno.readTextFile(
      new URL("./fixtures/02-login-conflict-middlename-in-appuser.json", import.meta.url),
    );

    first = run(image, env);
    await withDeadline(first.line(/"msg":"Listening"/), 60_000, "the container to listen");
    assert.equal(await healthcheck(image, env), 0, "HEALTHCHECK passes");
    const answer = await post(port, fixture);
    assert.equal(answer.status, 200, answer.body);
    assert.match(answer.body, /"login":"tobias\.everett\.whitfield@ridgeline\.example"/);
    // Written by the service, as its user, on the volume (not in the image's layers).
    const db = Deno.statSync(`${volume}/import-hook.db`);
    assert.equal(db.uid, 10001);
    // Docker's HOSTNAME is not taken as the bind address, and no warning is needed with
    // BIND_ADDRESS set in the image.
    assert.ok(!first.lines.some((l) => l.includes("HOSTNAME")), first.lines.join("\n"));

    // docker stop: STOPSIGNAL to PID 1, the launcher, which passes it on.
    assert.equal(image.stopSignal, "SIGTERM");
    Deno.kill(await pidOne(first.child.pid), "SIGTERM");
    const status = await withDeadline(first.child.status, 30_000, "the container to stop");
    assert.equal(status.code, 0, await first.stderr);
    assert.match(first.lines.at(-1) ?? "", /"msg":"Stopped"/);

    // A new container on the same volume answers Okta's retry from the stored decision.
    second = run(image, env);
    await withDeadline(second.line(/"msg":"Listening"/), 60_000, "the second container");
    const again = await post(port, fixture);
    assert.deepEqual(again, answer);
    Deno.kill(await pidOne(second.child.pid), "SIGTERM");
    assert.equal((await withDeadline(second.child.status, 30_000, "the stop")).code, 0);
    await second.stderr;
  } finally {
    await kill(first);
    await kill(second);
    await removeImage(image);
  }
});
