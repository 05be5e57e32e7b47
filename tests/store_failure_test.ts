/**
 * The store when the disk or the file fails under the running service: health says so, nothing
 * is answered as decided that was not kept, and a full disk heals by itself once space is free.
 */

import { VERSION } from "../lib/version.ts";
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { runTask } from "./_run_task.ts";
import {
  assertOktaError,
  assertUnchanged,
  makeHookRequest,
  makeTempDir,
  startTestServer,
  type TestServer,
} from "./_test_utils.ts";

async function health(server: TestServer): Promise<{ status: number; text: string }> {
  const response = await server.fetch("/healthz");
  return { status: response.status, text: await response.text() };
}

Deno.test("a deleted database file stops decisions with 503 instead of writing where nobody looks", async () => {
  const server = await startTestServer();
  try {
    await assertUnchanged(await server.post(makeHookRequest({ login: "before@example.com" })));
    for (const suffix of ["", "-wal", "-shm"]) {
      await Deno.remove(`${server.dbPath}${suffix}`).catch(() => {});
    }
    const after = await server.post(makeHookRequest({ login: "after@example.com" }));
    await assertOktaError(after, 503, "Temporary failure storing the decision; retry");
    const again = await server.post(makeHookRequest({ login: "again@example.com" }));
    assert.equal(again.status, 503);
    await again.body?.cancel();
    const probe = await health(server);
    assert.equal(probe.status, 503);
    assert.match(probe.text, /DB_PATH\) was deleted/);
  } finally {
    await server.close();
  }
});

Deno.test("a replaced database file stops decisions with 503", async () => {
  const server = await startTestServer();
  try {
    await assertUnchanged(await server.post(makeHookRequest({ login: "one@example.com" })));
    const other = `${server.dir}/other.db`;
    new DatabaseSync(other).close();
    await Deno.rename(other, server.dbPath);
    const response = await server.post(makeHookRequest({ login: "two@example.com" }));
    assert.equal(response.status, 503);
    await response.body?.cancel();
    assert.match((await health(server)).text, /DB_PATH\) was replaced/);
  } finally {
    await server.close();
  }
});

/** Mounts a small tmpfs (the tests run as root, as CI does) and unmounts it after `test`. */
async function withSmallDisk(test: (dir: string) => Promise<void>): Promise<void> {
  const dir = await makeTempDir("full-disk-");
  const mount = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", dir],
    stderr: "piped",
  }).output();
  assert.equal(mount.code, 0, `mount: ${new TextDecoder().decode(mount.stderr)}`);
  try {
    await test(dir);
  } finally {
    await new Deno.Command("umount", { args: ["-l", dir] }).output();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Writes a file until the disk is full; returns its path. */
async function fill(dir: string): Promise<string> {
  const path = `${dir}/filler`;
  const file = await Deno.open(path, { write: true, create: true });
  const chunk = new Uint8Array(64 * 1024);
  try {
    for (;;) await file.write(chunk);
  } catch (error) {
    assert.match(String(error), /No space left|os error 28/);
  } finally {
    file.close();
  }
  return path;
}

Deno.test("on a full disk the service answers 503, says so in health, and heals once space is free", async () => {
  await withSmallDisk(async (disk) => {
    const server = await startTestServer({ env: { DB_PATH: `${disk}/hook.db` } });
    try {
      await assertUnchanged(await server.post(makeHookRequest({ login: "room@example.com" })));
      const filler = await fill(disk);
      let refused = 0;
      for (let i = 0; i < 20; i++) {
        const response = await server.post(
          makeHookRequest({ login: `full${i}@example.com`, middleName: "x".repeat(150) }),
        );
        if (response.status === 503) refused++;
        else assert.equal(response.status, 204);
        await response.body?.cancel();
      }
      assert.ok(refused > 0, "a full disk refused nothing");
      assert.equal((await health(server)).status, 503);

      await Deno.remove(filler);
      // No restart and nothing done from outside but freeing the space.
      await assertUnchanged(await server.post(makeHookRequest({ login: "healed@example.com" })));
      assert.deepEqual(await health(server), {
        status: 200,
        text: JSON.stringify({ status: "ok", version: VERSION }),
      });
    } finally {
      await server.close();
    }
  });
});

Deno.test("audit prune frees space on a full disk", async () => {
  await withSmallDisk(async (disk) => {
    const server = await startTestServer({ env: { DB_PATH: `${disk}/hook.db` } });
    try {
      for (let i = 0; i < 100; i++) {
        await assertUnchanged(await server.post(makeHookRequest({ login: `p${i}@example.com` })));
      }
      // Made old, so that a prune of what is over an hour old takes them all.
      server.db().exec("UPDATE decisions SET received_at = '2020-01-01T00:00:00.000Z'");
      await fill(disk);
      // The real task, as an admin would run it, with the service still running.
      const result = await runTask("audit", ["prune", "--older-than", "1h"], {
        DB_PATH: `${disk}/hook.db`,
      });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^Removed 100 decisions and 0 rejections received before/);
    } finally {
      await server.close();
    }
  });
});
