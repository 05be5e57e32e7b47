import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createSelfSignedCertificate } from "../lib/hook/dev_credentials.ts";
import { makeHookRequest, makeTempDir, TEST_SECRET, withDeadline } from "./_test_utils.ts";

/** The `start` task's own command line from deno.json, run with this Deno binary. */
async function startCommand(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  const [deno, ...args] = (config.tasks.start.command as string).split(" ");
  assert.equal(deno, "deno");
  return args;
}

interface Started {
  readonly child: Deno.ChildProcess;
  readonly lines: string[];
  readonly url: string;
  readonly client: Deno.HttpClient;
  readonly done: Promise<void>;
}

/**
 * Spawns `main.ts serve` with the start task's permissions on a port the OS picks, and waits
 * (with a deadline, failing if the child exits first) for "Listening", which names the port.
 */
async function spawnService(dir: string): Promise<Started> {
  const pair = await createSelfSignedCertificate();
  await Deno.writeTextFile(`${dir}/cert.pem`, pair.cert);
  await Deno.writeTextFile(`${dir}/key.pem`, pair.key);
  const child = new Deno.Command(Deno.execPath(), {
    args: await startCommand(),
    cwd: new URL("..", import.meta.url),
    env: {
      NO_COLOR: "1",
      PORT: "0",
      HOSTNAME: "127.0.0.1",
      HOOK_AUTH_SECRET: TEST_SECRET,
      DB_PATH: `${dir}/hook.db`,
      TLS_CERT_FILE: `${dir}/cert.pem`,
      TLS_KEY_FILE: `${dir}/key.pem`,
    },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines: string[] = [];
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
      }
    }
    ready.reject(new Error(`The service exited before listening: ${lines.join("\n")}`));
  })();
  const listening = new URL(await withDeadline(ready.promise, 20_000, "the Listening line"));
  const client = Deno.createHttpClient({ caCerts: [pair.cert] });
  const url = `https://localhost:${listening.port}/hooks/import`;
  return { child, lines, url, client, done };
}

function post(started: Started, body: unknown): Promise<Response> {
  return fetch(started.url, {
    method: "POST",
    client: started.client,
    headers: { authorization: TEST_SECRET, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

Deno.test("the start task's process logs each request without the secret and exits 0 on SIGTERM", async () => {
  const dir = await makeTempDir();
  const started = await spawnService(dir);
  try {
    const request = makeHookRequest({ login: "sig.term@example.com", conflicts: ["login"] });
    const response = await post(started, request);
    assert.equal(response.status, 200);
    await response.body?.cancel();
    started.child.kill("SIGTERM");
    const status = await withDeadline(started.child.status, 20_000, "the service to exit");
    await started.done;
    assert.equal(status.code, 0);
    const logged = started.lines.map((line) => JSON.parse(line));
    const requestLine = logged.find((entry) => entry.msg === "request");
    assert.deepEqual(
      { ...requestLine, time: undefined, ms: undefined },
      {
        time: undefined,
        level: "info",
        msg: "request",
        method: "POST",
        path: "/hooks/import",
        eventId: request.eventId,
        outcome: "resolved",
        status: 200,
        ms: undefined,
      },
    );
    assert.equal(logged.at(-1).msg, "Stopped");
    assert.ok(!started.lines.join("\n").includes(TEST_SECRET), "no log line holds the secret");
  } finally {
    started.client.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an answered decision survives kill -9 of the service", async () => {
  const dir = await makeTempDir();
  const started = await spawnService(dir);
  try {
    const requests = Array.from(
      { length: 20 },
      () => makeHookRequest({ login: "kill.nine@example.com", middleName: null }),
    );
    const answered = await Promise.all(requests.map(async (request) => {
      const response = await post(started, request);
      await response.body?.cancel();
      return { eventId: request.eventId as string, status: response.status };
    }));
    started.child.kill("SIGKILL");
    await withDeadline(started.child.status, 20_000, "the service to exit");
    await started.done;
    const db = new DatabaseSync(`${dir}/hook.db`);
    try {
      const rows = db.prepare("SELECT event_id, status FROM decisions").all();
      const stored = new Map(rows.map((row) => [row.event_id, row.status]));
      for (const { eventId, status } of answered) assert.equal(stored.get(eventId), status);
      const logins = db.prepare("SELECT count(*) AS n FROM logins").get();
      assert.equal(logins?.n, 20);
    } finally {
      db.close();
    }
  } finally {
    started.client.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the start task refuses a bad setting with one line naming the variable", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: await startCommand(),
    cwd: new URL("..", import.meta.url),
    env: { NO_COLOR: "1", PORT: "84x3" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 1);
  assert.equal(
    new TextDecoder().decode(output.stderr),
    'Cannot read PORT: "84x3" is not a number\n',
  );
  assert.equal(new TextDecoder().decode(output.stdout), "");
});
