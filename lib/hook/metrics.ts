/**
 * Prometheus metrics (prom-client), served on a listener of their own (`METRICS_PORT` on
 * `METRICS_HOSTNAME`, loopback by default), so the counts never face the internet with the hook.
 */

import client from "prom-client";
import { requestPath } from "./request_path.ts";

/** What the request path reports. */
export interface Metrics {
  /** One answered request: its route (`/hooks/import`, `/healthz`, or `other`) and status. */
  request(path: string, status: number): void;
  /** One decision, and how long from the request's arrival to its answer. */
  decided(outcome: string, strategy: string | null, replayed: boolean, seconds: number): void;
  /** One refused request. */
  refused(status: number): void;
  /** A decision whose owner did not come from the owner attribute. */
  ownerFallback(source: string): void;
  /** A request that reused a decided eventId with other inputs, and was decided on its own. */
  eventIdReused(): void;
  /** A judged link or conflict (`PERSON_MATCH`): what was found and what was done. */
  personJudged(match: string, action: string | null): void;
}

/** Where the service's numbers come from when scraped. */
export interface MetricsSources {
  readonly openConnections: () => number;
  readonly dbPath: string;
}

/** The metrics of one running service, and their registry. */
export interface ServiceMetrics extends Metrics {
  readonly registry: client.Registry;
  /** One committed (or failed) group of `size` decisions. */
  group(size: number, committed: boolean): void;
}

const ROUTES = new Set(["/hooks/import", "/healthz"]);

/** A registry with the service's metrics. */
export function createMetrics(sources: MetricsSources, version: string): ServiceMetrics {
  const registry = new client.Registry();
  const registers = [registry];
  const requests = new client.Counter({
    name: "okta_hook_requests_total",
    help: "Requests answered, by route and status",
    labelNames: ["route", "status"],
    registers,
  });
  const decisions = new client.Counter({
    name: "okta_hook_decisions_total",
    help: "Decisions answered, by outcome and strategy (replays counted apart)",
    labelNames: ["outcome", "strategy", "replayed"],
    registers,
  });
  const refusals = new client.Counter({
    name: "okta_hook_refusals_total",
    help: "Requests refused before a decision, by status (401/403: credentials)",
    labelNames: ["status"],
    registers,
  });
  const latency = new client.Histogram({
    name: "okta_hook_decision_seconds",
    help: "From a request's arrival to its decision's answer (queue, decision and commit)",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  const groups = new client.Histogram({
    name: "okta_hook_group_size",
    help: "Decisions committed together in one transaction",
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers,
  });
  const fallbacks = new client.Counter({
    name: "okta_hook_owner_fallbacks_total",
    help: "Decisions without an OWNER_ATTRIBUTE value, by where the owner came from instead",
    labelNames: ["source"],
    registers,
  });
  const reuses = new client.Counter({
    name: "okta_hook_event_id_reuses_total",
    help: "Requests that reused a decided eventId with other inputs (decided on their own)",
    registers,
  });
  const judgements = new client.Counter({
    name: "okta_hook_person_judgements_total",
    help: "Links and conflicts judged by PERSON_ATTRIBUTE: match same/different/unverified, " +
      "action refused_link/linked/none",
    labelNames: ["match", "action"],
    registers,
  });
  const commitFailures = new client.Counter({
    name: "okta_hook_commit_failures_total",
    help: "Groups that could not be committed (their requests were answered 503)",
    registers,
  });
  new client.Gauge({
    name: "okta_hook_open_connections",
    help: "Client connections open now",
    registers,
    collect() {
      this.set(sources.openConnections());
    },
  });
  new client.Gauge({
    name: "okta_hook_database_bytes",
    help: "Size of the database file and of its write-ahead log",
    labelNames: ["file"],
    registers,
    collect() {
      const files: [string, string][] = [["db", sources.dbPath], ["wal", `${sources.dbPath}-wal`]];
      for (const [file, path] of files) {
        try {
          this.set({ file }, Deno.statSync(path).size);
        } catch {
          this.set({ file }, 0);
        }
      }
    },
  });
  const build = new client.Gauge({
    name: "okta_hook_build_info",
    help: "The running build: always 1",
    labelNames: ["version", "deno"],
    registers,
  });
  build.set({ version, deno: Deno.version.deno }, 1);
  return {
    registry,
    request(path, status) {
      requests.inc({ route: ROUTES.has(path) ? path : "other", status: String(status) });
    },
    decided(outcome, strategy, replayed, seconds) {
      decisions.inc({ outcome, strategy: strategy ?? "none", replayed: String(replayed) });
      latency.observe(seconds);
    },
    refused(status) {
      refusals.inc({ status: String(status) });
    },
    ownerFallback(source) {
      fallbacks.inc({ source });
    },
    eventIdReused() {
      reuses.inc();
    },
    personJudged(match, action) {
      judgements.inc({ match, action: action ?? "none" });
    },
    group(size, committed) {
      groups.observe(size);
      if (!committed) commitFailures.inc();
    },
  };
}

/** Serves `registry` at `/metrics` on `hostname:port` (plain HTTP: keep it off the internet). */
export function serveMetrics(
  registry: client.Registry,
  hostname: string,
  port: number,
): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname, port, onListen: () => {} }, async (request) => {
    const path = requestPath(request);
    if (path !== "/metrics") return new Response("Not found\n", { status: 404 });
    return new Response(await registry.metrics(), {
      headers: { "content-type": registry.contentType },
    });
  });
}
