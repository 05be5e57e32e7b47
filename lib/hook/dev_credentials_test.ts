import assert from "node:assert/strict";
import * as x509 from "@peculiar/x509";
import { ensureDevCertificate, ensureDevSecret } from "./dev_credentials.ts";
import { withTempDir } from "../../tests/_test_utils.ts";

const DAY_MS = 86_400_000;

async function mode(path: string): Promise<number> {
  return (await Deno.stat(path)).mode! & 0o777;
}

Deno.test("ensureDevSecret() writes a random 256-bit secret readable only by its owner", async () => {
  await withTempDir("dev-credentials-", async (dir) => {
    const path = `${dir}/hook-secret`;
    const { value, created } = await ensureDevSecret(path);
    assert.equal(created, true);
    assert.match(value, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(await Deno.readTextFile(path), `${value}\n`);
    assert.equal(await mode(path), 0o600);
    const other = await ensureDevSecret(`${dir}/other-secret`);
    assert.notEqual(other.value, value);
  });
});

Deno.test("ensureDevSecret() reuses the secret already in the file", async () => {
  await withTempDir("dev-credentials-", async (dir) => {
    const path = `${dir}/hook-secret`;
    const first = await ensureDevSecret(path);
    assert.deepEqual(await ensureDevSecret(path), { value: first.value, created: false });
    await Deno.writeTextFile(path, "  chosen-by-hand-secret  \n");
    assert.deepEqual(await ensureDevSecret(path), {
      value: "chosen-by-hand-secret",
      created: false,
    });
  });
});

Deno.test("ensureDevSecret() replaces a blank file and makes it private", async () => {
  await withTempDir("dev-credentials-", async (dir) => {
    const path = `${dir}/hook-secret`;
    await Deno.writeTextFile(path, " \n", { mode: 0o644 });
    await Deno.chmod(path, 0o644);
    const { value, created } = await ensureDevSecret(path);
    assert.equal(created, true);
    assert.match(value, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(await mode(path), 0o600);
  });
});

Deno.test("ensureDevCertificate() writes a year-long self-signed certificate for the loopback names", async () => {
  await withTempDir("dev-credentials-", async (dir) => {
    const certPath = `${dir}/dev-cert.pem`;
    const keyPath = `${dir}/dev-key.pem`;
    const now = new Date("2026-03-02T08:00:00.000Z");
    const { value, created } = await ensureDevCertificate(certPath, keyPath, now);
    assert.equal(created, true);
    assert.equal(await Deno.readTextFile(certPath), value.cert);
    assert.equal(await Deno.readTextFile(keyPath), value.key);
    assert.equal(await mode(keyPath), 0o600);
    assert.match(value.key, /^-----BEGIN PRIVATE KEY-----\n/);

    const cert = new x509.X509Certificate(value.cert);
    assert.equal(cert.subject, "CN=localhost, O=Okta import hook (development)");
    assert.equal(cert.issuer, cert.subject);
    assert.equal(cert.notBefore.getTime(), now.getTime() - DAY_MS);
    assert.equal(cert.notAfter.getTime(), now.getTime() + 365 * DAY_MS);
    const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
    assert.deepEqual(san?.names.toJSON(), [
      { type: "dns", value: "localhost" },
      { type: "ip", value: "127.0.0.1" },
      { type: "ip", value: "::1" },
    ]);
    assert.equal(await cert.verify({ date: now }), true);
  });
});

Deno.test("ensureDevCertificate() serves TLS that a client trusting it accepts for localhost", async () => {
  await withTempDir("dev-credentials-", async (dir) => {
    const { value } = await ensureDevCertificate(`${dir}/cert.pem`, `${dir}/key.pem`);
    const controller = new AbortController();
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      cert: value.cert,
      key: value.key,
      signal: controller.signal,
      onListen: () => {},
    }, () => new Response("hello"));
    const client = Deno.createHttpClient({ caCerts: [value.cert] });
    try {
      const response = await fetch(`https://localhost:${server.addr.port}/`, { client });
      assert.equal(response.status, 200);
      assert.equal(await response.text(), "hello");
    } finally {
      client.close();
      controller.abort();
      await server.finished;
    }
  });
});

Deno.test("ensureDevCertificate() reuses a pair that has not expired", async () => {
  await withTempDir("dev-credentials-", async (dir) => {
    const certPath = `${dir}/dev-cert.pem`;
    const keyPath = `${dir}/dev-key.pem`;
    const now = new Date("2026-03-02T08:00:00.000Z");
    const first = await ensureDevCertificate(certPath, keyPath, now);
    const later = new Date(now.getTime() + 364 * DAY_MS);
    assert.deepEqual(await ensureDevCertificate(certPath, keyPath, later), {
      value: first.value,
      created: false,
    });
  });
});

Deno.test("ensureDevCertificate() replaces an expired pair", async () => {
  await withTempDir("dev-credentials-", async (dir) => {
    const certPath = `${dir}/dev-cert.pem`;
    const keyPath = `${dir}/dev-key.pem`;
    const now = new Date("2026-03-02T08:00:00.000Z");
    const first = await ensureDevCertificate(certPath, keyPath, now);
    const expired = new Date(now.getTime() + 365 * DAY_MS);
    const second = await ensureDevCertificate(certPath, keyPath, expired);
    assert.equal(second.created, true);
    assert.notEqual(second.value.cert, first.value.cert);
    assert.notEqual(second.value.key, first.value.key);
    assert.equal(await Deno.readTextFile(certPath), second.value.cert);
    assert.equal(
      new x509.X509Certificate(second.value.cert).notAfter.getTime(),
      expired.getTime() + 365 * DAY_MS,
    );
  });
});

Deno.test("ensureDevCertificate() makes a new pair when only the certificate is there", async () => {
  await withTempDir("dev-credentials-", async (dir) => {
    const certPath = `${dir}/dev-cert.pem`;
    const keyPath = `${dir}/dev-key.pem`;
    const first = await ensureDevCertificate(certPath, keyPath);
    await Deno.remove(keyPath);
    const second = await ensureDevCertificate(certPath, keyPath);
    assert.equal(second.created, true);
    assert.notEqual(second.value.cert, first.value.cert);
    assert.equal(await Deno.readTextFile(keyPath), second.value.key);
  });
});
