import assert from "node:assert/strict";
import parsePrometheus from "parse-prometheus-text-format";
import { assertUnchanged, makeHookRequest, startTestServer } from "./_test_utils.ts";

interface Family {
  name: string;
  type: string;
  metrics: { value?: string; labels?: Record<string, string>; count?: string }[];
}

Deno.test("metrics on their own loopback listener count requests, decisions, refusals and latency", async () => {
  const server = await startTestServer({ env: { METRICS_PORT: "0" } });
  try {
    const addr = server.service.metricsAddr;
    assert.ok(addr !== null);
    assert.equal(addr.hostname, "127.0.0.1");
    await assertUnchanged(await server.post(makeHookRequest({ login: "m1@example.com" })));
    const refused = await server.post(makeHookRequest({ login: "m2@example.com" }), {
      authorization: "",
    });
    assert.equal(refused.status, 401);
    await refused.body?.cancel();
    const scrape = await fetch(`http://127.0.0.1:${addr.port}/metrics`);
    assert.equal(scrape.status, 200);
    assert.match(scrape.headers.get("content-type") ?? "", /^text\/plain/);
    const families = new Map(
      (parsePrometheus(await scrape.text()) as Family[]).map((f) => [f.name, f]),
    );
    const value = (name: string, labels: Record<string, string>) =>
      families.get(name)?.metrics.find((m) =>
        Object.entries(labels).every(([k, v]) => m.labels?.[k] === v)
      )?.value;
    assert.equal(value("okta_hook_requests_total", { route: "/hooks/import", status: "204" }), "1");
    assert.equal(value("okta_hook_requests_total", { route: "/hooks/import", status: "401" }), "1");
    assert.equal(
      value("okta_hook_decisions_total", {
        outcome: "unchanged",
        strategy: "none",
        replayed: "false",
      }),
      "1",
    );
    assert.equal(value("okta_hook_refusals_total", { status: "401" }), "1");
    assert.equal(families.get("okta_hook_decision_seconds")?.type, "HISTOGRAM");
    assert.equal(families.get("okta_hook_decision_seconds")?.metrics[0]?.count, "1");
    assert.equal(families.get("okta_hook_group_size")?.type, "HISTOGRAM");
    assert.ok(Number(value("okta_hook_database_bytes", { file: "db" })) > 0);
    assert.ok(Number(value("okta_hook_open_connections", {})) >= 1);
    assert.equal(value("okta_hook_commit_failures_total", {}), "0");
    assert.equal(families.get("okta_hook_build_info")?.metrics[0]?.value, "1");
    const other = await fetch(`http://127.0.0.1:${addr.port}/`);
    assert.equal(other.status, 404);
    await other.body?.cancel();
  } finally {
    await server.close();
  }
});
