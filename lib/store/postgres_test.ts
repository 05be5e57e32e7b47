import assert from "node:assert/strict";
import postgres from "postgres";
import {
  connectPostgres,
  guardDriverErrors,
  migratePostgres,
  PG_MIGRATIONS,
  PG_SCHEMA_VERSION,
  pgPort,
} from "./postgres.ts";
import { withPostgresDatabase } from "../../tests/_postgres.ts";

function errorAt(file: string): Error {
  const error = new TypeError("Cannot read properties of null (reading 'write')");
  error.stack = `TypeError: ${error.message}\n    at nextWrite (${file}:255:22)`;
  return error;
}

Deno.test("guardDriverErrors() stops and logs the driver's stray errors, and only those", () => {
  const logged: unknown[] = [];
  const unguard = guardDriverErrors((error) => logged.push(error));
  try {
    const driver = errorAt(
      "file:///root/.cache/deno/npm/registry.npmjs.org/postgres/3.4.9/src/connection.js",
    );
    const stray = new ErrorEvent("error", { error: driver, cancelable: true });
    globalThis.dispatchEvent(stray);
    assert.equal(stray.defaultPrevented, true);
    assert.deepEqual(logged, [driver]);

    const ours = new ErrorEvent("error", {
      error: errorAt("file:///work/main/lib/hook/routes.ts"),
      cancelable: true,
    });
    globalThis.dispatchEvent(ours);
    assert.equal(ours.defaultPrevented, false);
    assert.equal(logged.length, 1);
  } finally {
    unguard();
  }
  const after = new ErrorEvent("error", {
    error: errorAt("file:///x/postgres/3.4.9/src/connection.js"),
    cancelable: true,
  });
  globalThis.dispatchEvent(after);
  assert.equal(after.defaultPrevented, false);
});

Deno.test("migratePostgres() moves a version 1 audit to (event_id, fingerprint) keys, keeping every row", async () => {
  await withPostgresDatabase(async (url) => {
    const raw = postgres(url, { max: 1, onnotice: () => {} });
    try {
      await raw.unsafe(PG_MIGRATIONS[0]!);
      await raw.unsafe(`CREATE TABLE schema_version (version integer NOT NULL);
        INSERT INTO schema_version VALUES (1);
        INSERT INTO decisions (event_id, received_at, owner, action, original_login, final_login,
          outcome, status, response, duration_ms)
        VALUES ('evt-old', '2026-01-01T00:00:00.000Z', 'o', 'CREATE_USER', 'a@x.com', 'a@x.com',
          'unchanged', 204, NULL, 1);
        INSERT INTO logins (login_key, login, strategy, source, created_at)
        VALUES ('a@x.com', 'a@x.com', 'seed', 'seed', 't');`);
    } finally {
      await raw.end();
    }
    const sql = connectPostgres(url, { max: 1 });
    try {
      await migratePostgres(sql);
      const [version] = await sql`SELECT version FROM schema_version`;
      assert.equal(version!.version, PG_SCHEMA_VERSION);
      const [row] = await sql`SELECT event_id, fingerprint, person FROM decisions`;
      assert.deepEqual({ ...row }, { event_id: "evt-old", fingerprint: "", person: null });
      const [login] = await sql`SELECT login, person FROM logins`;
      assert.deepEqual({ ...login }, { login: "a@x.com", person: null });
      // A decision from before fingerprints is still replayed to Okta's retry.
      const prior = await pgPort(sql).findDecision("evt-old", '["anything"]');
      assert.equal(prior?.sameInputs && prior.decision.reply.status, 204);
    } finally {
      await sql.end({ timeout: 1 });
    }
  });
});
