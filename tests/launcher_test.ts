/**
 * The launcher behind `deno task start`, run as a wrapper such as `npx` runs it: a shell that
 * runs the task. When that shell is killed, nothing passes a signal on; the launcher must see it
 * has gone and stop the service, or the service serves on and holds the port.
 */

import assert from "node:assert/strict";
import { createSelfSignedCertificate } from "../lib/hook/dev_credentials.ts";
import { makeTempDir, TEST_SECRET, withDeadline } from "./_test_utils.ts";

/** Reads `stream` to its end: every process holding it has exited. */
async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  return await new Response(stream).text();
}

Deno.test("killing the wrapper that runs `deno task start` (as kill npx does) stops the service", async () => {
  const dir = await makeTempDir("launcher-");
  try {
    const pair = await createSelfSignedCertificate();
    await Deno.writeTextFile(`${dir}/cert.pem`, pair.cert);
    await Deno.writeTextFile(`${dir}/key.pem`, pair.key);
    const wrapper = new Deno.Command("sh", {
      // Not `exec`: the shell stays as the task's parent, as npx's shell does.
      args: ["-c", '"$DENO" task --quiet start; echo "the task ended"'],
      cwd: new URL("..", import.meta.url),
      env: {
        DENO: Deno.execPath(),
        NO_COLOR: "1",
        PORT: "0",
        BIND_ADDRESS: "127.0.0.1",
        HOOK_AUTH_SECRET: TEST_SECRET,
        TLS_CERT_FILE: `${dir}/cert.pem`,
        TLS_KEY_FILE: `${dir}/key.pem`,
        DB_PATH: `${dir}/hook.db`,
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const [forLog, forEnd] = wrapper.stdout.tee();
    const stderr = readAll(wrapper.stderr);
    const reader = forLog.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    const listening = (async () => {
      while (!/"msg":"Listening"/.test(seen)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the service stopped before listening:\n${seen}`);
        seen += value;
      }
      reader.releaseLock();
    })();
    await withDeadline(listening, 30_000, "the service to listen");
    const port = Number(/"url":"https:\/\/[^"]*:(\d+)\/hooks\/import"/.exec(seen)?.[1]);
    const client = Deno.createHttpClient({ caCerts: [pair.cert] });
    const health = await fetch(`https://localhost:${port}/healthz`, { client });
    assert.equal(health.status, 200);
    await health.body?.cancel();
    client.close();

    wrapper.kill("SIGKILL");
    await wrapper.status;
    // stdout closes when the launcher and the service (which inherit it) have both exited.
    const rest = await withDeadline(readAll(forEnd), 20_000, "the service to stop");
    assert.match(rest, /"msg":"Stopped"/);
    assert.doesNotMatch(rest, /the task ended/, "the shell was killed, not ended");
    assert.match(
      await stderr,
      /launcher: the process that started this task \(pid \d+\) has gone; stopping the service/,
    );
    const probe = await Deno.connect({ hostname: "127.0.0.1", port }).catch(() => null);
    probe?.close();
    assert.equal(probe, null, "the port is free again");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
