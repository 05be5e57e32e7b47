/**
 * The real tasks with their database, certificates and files in a directory outside the project,
 * as a deployment has them (a data volume, /etc for certificates): the launcher derives the
 * permissions from the settings, so nothing in deno.json needs editing.
 */

import assert from "node:assert/strict";
import { createSelfSignedCertificate } from "../lib/hook/dev_credentials.ts";
import { runTask } from "./_run_task.ts";
import { logLines, makeHookRequest, runChecked, TEST_SECRET, withDeadline } from "./_test_utils.ts";

/** Runs `script` in sh (the tests may write only under data/). */
function sh(script: string, input = ""): Promise<string> {
  return runChecked("sh", ["-c", script], input);
}

Deno.test("start, seed, preview and audit work with every path outside the project", async () => {
  const root = await sh("mktemp -d /tmp/okta-hook-paths-XXXXXX");
  try {
    const pair = await createSelfSignedCertificate();
    await sh(`mkdir -p ${root}/etc ${root}/state ${root}/in ${root}/out`);
    await sh(`cat > ${root}/etc/cert.pem`, pair.cert);
    await sh(`umask 077 && cat > ${root}/etc/key.pem`, pair.key);
    await sh(
      `cat > ${root}/in/users.csv`,
      "Username,employeeId,userName,middleName\ngeorge.smith@example.com,E1,george.smith@example.com,Alexander\n",
    );
    const DB_PATH = `${root}/state/hook.db`;

    const seed = await runTask("seed", [`${root}/in/users.csv`], { DB_PATH });
    assert.equal(seed.code, 0, seed.stderr);
    assert.match(seed.stdout, /1 added/);

    const preview = await runTask(
      "preview",
      [`${root}/in/users.csv`, "--out", `${root}/out/plan.csv`],
      { DB_PATH },
    );
    assert.equal(preview.code, 0, preview.stderr);
    assert.match(await sh(`cat ${root}/out/plan.csv`), /george\.alexander\.smith@example\.com/);

    // The service, started by its task (the launcher), serving with the outside certificate.
    const start = new Deno.Command(Deno.execPath(), {
      args: ["task", "--quiet", "start"],
      cwd: new URL("..", import.meta.url),
      env: {
        NO_COLOR: "1",
        PORT: "0",
        BIND_ADDRESS: "127.0.0.1",
        HOOK_AUTH_SECRET: TEST_SECRET,
        DB_PATH,
        TLS_CERT_FILE: `${root}/etc/cert.pem`,
        TLS_KEY_FILE: `${root}/etc/key.pem`,
      },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const { lines, listening, reading } = logLines(start);
    const stderr = new Response(start.stderr).text();
    try {
      const url = new URL(await withDeadline(listening, 30_000, "the Listening line"));
      const client = Deno.createHttpClient({ caCerts: [pair.cert] });
      try {
        const response = await fetch(`https://localhost:${url.port}/hooks/import`, {
          client,
          method: "POST",
          headers: { authorization: TEST_SECRET, "content-type": "application/json" },
          body: JSON.stringify(makeHookRequest({ login: "outside@example.com" })),
        });
        assert.equal(response.status, 204);
      } finally {
        client.close();
      }
    } finally {
      // SIGTERM to the task reaches the service through the launcher.
      start.kill("SIGTERM");
      const status = await withDeadline(start.status, 20_000, "the service to stop");
      await reading.catch(() => {});
      assert.equal(status.code, 0, await stderr);
    }
    assert.ok(lines.some((line) => line.includes('"msg":"Stopped"')), lines.join("\n"));

    const audit = await runTask("audit", ["summary"], { DB_PATH });
    assert.equal(audit.code, 0, audit.stderr);
    assert.match(audit.stdout, /1 decision/);
    // The database and its -wal/-shm were created where DB_PATH says, readable by the owner only.
    assert.match(await sh(`stat -c '%a %n' ${root}/state/hook.db`), /^600 /);
  } finally {
    await sh(`rm -rf ${root}`);
  }
});
