import assert from "node:assert/strict";
import { parseConfig } from "../config.ts";
import {
  displayHost,
  listeningFields,
  warnIgnoredSettings,
  warnOwnerFallbacks,
} from "./start_log.ts";
import { type LogFields, silentLogger } from "../log.ts";
import { openDatabase } from "../store/database.ts";
import { AuditLog } from "../store/sqlite_audit.ts";
import { decisionRecord, makeTempDir } from "../../tests/_test_utils.ts";

Deno.test("displayHost() shows a wildcard as localhost and brackets IPv6", () => {
  const shown = ["0.0.0.0", "::", "::1", "127.0.0.1"].map(displayHost);
  assert.deepEqual(shown, ["localhost", "localhost", "[::1]", "127.0.0.1"]);
});

Deno.test("listeningFields() gives the URL and set-up, and never a secret or a password", () => {
  const config = parseConfig({
    HOOK_AUTH_SECRET: "a-very-long-test-secret-value-0123456789",
    DATABASE_URL: "postgres://hook:pw-123@db.internal/hook",
  });
  const addr = { transport: "tcp", hostname: "0.0.0.0", port: 8443 } as const;
  const fields = listeningFields(config, addr, 1, 0);
  assert.equal(fields.url, "https://localhost:8443/hooks/import");
  assert.equal(fields.auth, "header secret");
  assert.equal(fields.secrets, 1);
  const text = JSON.stringify(fields);
  assert.doesNotMatch(text, /pw-123|a-very-long-test-secret/);
});

Deno.test("warnOwnerFallbacks() says at start how many decisions fell back to their event, and is quiet at none", async () => {
  const dir = await makeTempDir("start-log-");
  const dbPath = `${dir}/hook.db`;
  try {
    const db = openDatabase(dbPath);
    const audit = new AuditLog(db);
    const record = (eventId: string, ownerSource: "attribute" | "event") =>
      audit.recordDecision(decisionRecord(eventId, {
        owner: JSON.stringify(["event", eventId]),
        ownerSource,
        inputs: eventId,
      }));
    record("e1", "attribute");
    const config = parseConfig({ DB_PATH: dbPath });
    const warnings: string[] = [];
    const log = { ...silentLogger, warn: (message: string) => void warnings.push(message) };
    await warnOwnerFallbacks(config, log);
    assert.deepEqual(warnings, []);
    record("e2", "event");
    record("e3", "event");
    const fields: LogFields[] = [];
    await warnOwnerFallbacks(config, {
      ...silentLogger,
      warn: (_message: string, f?: LogFields) => void fields.push(f ?? {}),
    });
    assert.equal(fields[0]?.decisions, 2);
    assert.equal(fields[0]?.ownerAttributes, "employeeId,externalId,employeeNumber");
    db.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("warnIgnoredSettings() says HOSTNAME is ignored only when BIND_ADDRESS is not set", () => {
  const warnings: string[] = [];
  const log = { ...silentLogger, warn: (message: string) => void warnings.push(message) };
  warnIgnoredSettings(parseConfig({ HOSTNAME: "3f2a9c1b7d4e" }), log);
  warnIgnoredSettings(parseConfig({ HOSTNAME: "pod-7", BIND_ADDRESS: "0.0.0.0" }), log);
  assert.deepEqual(warnings, ["HOSTNAME is ignored: the address to bind is BIND_ADDRESS"]);
});
