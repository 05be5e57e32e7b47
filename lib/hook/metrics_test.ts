import assert from "node:assert/strict";
import { createMetrics } from "./metrics.ts";

Deno.test("createMetrics() keeps route labels bounded and counts failed groups", async () => {
  const metrics = createMetrics({ openConnections: () => 3, dbPath: "data/none.db" }, "9.9.9");
  metrics.request("/hooks/import", 204);
  metrics.request("/anything/an/attacker/sends", 404);
  metrics.request("/also/random", 404);
  metrics.decided("resolved", "middle_name", false, 0.004);
  metrics.refused(403);
  metrics.ownerFallback("event");
  metrics.group(4, true);
  metrics.group(2, false);
  const text = await metrics.registry.metrics();
  assert.match(text, /^okta_hook_requests_total\{route="\/hooks\/import",status="204"\} 1$/m);
  // Any path a client sends is one label value, so no one can grow the metrics.
  assert.match(text, /^okta_hook_requests_total\{route="other",status="404"\} 2$/m);
  assert.doesNotMatch(text, /attacker/);
  assert.match(
    text,
    /^okta_hook_decisions_total\{outcome="resolved",strategy="middle_name",replayed="false"\} 1$/m,
  );
  assert.match(text, /^okta_hook_refusals_total\{status="403"\} 1$/m);
  assert.match(text, /^okta_hook_owner_fallbacks_total\{source="event"\} 1$/m);
  assert.match(text, /^okta_hook_group_size_count 2$/m);
  assert.match(text, /^okta_hook_commit_failures_total 1$/m);
  assert.match(text, /^okta_hook_open_connections 3$/m);
  assert.match(text, /^okta_hook_database_bytes\{file="db"\} 0$/m);
  assert.match(text, /^okta_hook_build_info\{version="9\.9\.9",deno="[\d.]+"\} 1$/m);
});
