/**
 * The database worker behind {@link openDecisionStore}: owns the connection, runs each group it
 * receives in one transaction ({@link commitGroup}: a savepoint per item, one COMMIT, one fsync),
 * and answers only after that COMMIT returned.
 */

/// <reference lib="deno.worker" />

import { AuditLog } from "../decision/audit.ts";
import { openDatabase } from "./database.ts";
import { type Decided, decideEvent } from "../decision/decide_event.ts";
import type {
  FromWorker,
  ItemResult,
  StoreItem,
  StoreSettings,
  ToWorker,
} from "./worker_protocol.ts";
import { commitGroup } from "./group_commit.ts";
import { LoginIndex } from "../decision/login_index.ts";
import { describeError, messageOf } from "../log.ts";

interface Open {
  readonly close: () => void;
  readonly commit: (items: readonly StoreItem[]) => FromWorker;
  readonly ping: () => boolean;
}

let open: Open | undefined;

self.onmessage = (message: MessageEvent<ToWorker>) => {
  const request = message.data;
  switch (request.kind) {
    case "open":
      try {
        open = openStore(request.settings);
        reply({ kind: "opened" });
      } catch (error) {
        reply({ kind: "failed", message: describeError(error) });
      }
      return;
    case "group":
      return reply(
        open?.commit(request.items) ??
          { kind: "not-committed", message: "The database is not open", cause: "" },
      );
    case "ping":
      return reply({ kind: "pong", ok: open?.ping() ?? false });
    case "close":
      open?.close();
      open = undefined;
      reply({ kind: "closed" });
      self.close();
  }
};

function openStore(settings: StoreSettings): Open {
  const db = openDatabase(settings.dbPath, { busyTimeoutMs: settings.busyTimeoutMs });
  const deps = {
    index: new LoginIndex(db),
    audit: new AuditLog(db),
    strategies: settings.strategies,
  };
  const health = db.prepare("SELECT 1 AS ok");
  const work = (item: StoreItem) => (): unknown => {
    if (item.kind === "reject") {
      deps.audit.recordRejection(item.record);
      return null;
    }
    return decideEvent(item.event, deps, item);
  };
  return {
    close: () => db.close(),
    ping: () => {
      try {
        return (health.get() as { ok: number }).ok === 1;
      } catch {
        return false;
      }
    },
    commit(items) {
      try {
        const results = commitGroup(db, items.map(work)).map((outcome): ItemResult =>
          outcome.ok
            ? { ok: true, value: outcome.value as Decided | null }
            : { ok: false, message: describeError(outcome.error) }
        );
        return { kind: "committed", results };
      } catch (error) {
        return {
          kind: "not-committed",
          message: messageOf(error),
          cause: error instanceof Error ? describeError(error.cause) : "",
        };
      }
    },
  };
}

function reply(message: FromWorker): void {
  self.postMessage(message);
}
