import assert from "node:assert/strict";
import { parseConfig } from "../config.ts";
import { displayHost, listeningFields } from "./start_log.ts";

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
