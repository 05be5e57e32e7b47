import assert from "node:assert/strict";
import { reloadCertificate, watchCertificate } from "./cert_reload.ts";
import { parseConfig } from "../config.ts";
import type { LogFields, Logger } from "../log.ts";
import { makeTempDir, withDeadline } from "../../tests/_test_utils.ts";

Deno.test("watchCertificate() reloads after the files change, and stops watching when told", async () => {
  const dir = await makeTempDir("watch-");
  const files = { certFile: `${dir}/cert.pem`, keyFile: `${dir}/key.pem` };
  await Deno.writeTextFile(files.certFile, "old");
  await Deno.writeTextFile(files.keyFile, "old");
  const reloaded = Promise.withResolvers<void>();
  const stop = Promise.withResolvers<void>();
  let reloads = 0;
  try {
    watchCertificate(files, () => {
      reloads++;
      reloaded.resolve();
      return Promise.resolve(true);
    }, stop.promise);
    // A renewal replaces the file, as an ACME client does. The watch may begin just after this
    // write, so write until a reload comes.
    const writes = (async () => {
      for (let i = 0; reloads === 0 && i < 50; i++) {
        await Deno.writeTextFile(`${dir}/new.pem`, `new ${i}`);
        await Deno.rename(`${dir}/new.pem`, files.certFile);
        await Promise.race([reloaded.promise, new Promise((r) => setTimeout(r, 100))]);
      }
    })();
    await withDeadline(reloaded.promise, 8000, "the reload after a change");
    await writes;
    assert.ok(reloads >= 1);
  } finally {
    stop.resolve();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("reloadCertificate() without certificate files warns and keeps serving what it has", async () => {
  const warnings: string[] = [];
  const log: Logger = {
    info() {},
    request() {},
    error() {},
    warn: (message: string, _fields?: LogFields) => void warnings.push(message),
  };
  const config = parseConfig({ HOOK_AUTH_SECRET: "a-very-long-test-secret-value-0123456789" });
  const untouched = new Proxy({}, {
    get: () => {
      throw new Error("nothing may be reloaded");
    },
  });
  assert.equal(await reloadCertificate(config, untouched as never, untouched as never, log), false);
  assert.match(warnings[0]!, /^Not reloading: the service has no certificate files/);
});
