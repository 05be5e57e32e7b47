/**
 * The database worker behind {@link openSqliteStore} (sqlite_store.ts): owns the connection, runs each group it
 * receives in one transaction ({@link commitGroup}: a savepoint per item, one COMMIT, one fsync),
 * and answers only after that COMMIT returned.
 */

/// <reference lib="deno.worker" />

import type { FromWorker, ToWorker } from "./worker_protocol.ts";
import { type Committer, openCommitter } from "./sqlite_committer.ts";
import { describeError } from "../log.ts";

let open: Committer | undefined;

self.onmessage = (message: MessageEvent<ToWorker>) => {
  const request = message.data;
  switch (request.kind) {
    case "open":
      try {
        open = openCommitter(request.settings);
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
    case "committed-elsewhere":
      return open?.committedElsewhere();
    case "ping":
      return reply({
        kind: "pong",
        health: open?.health() ?? { ok: false, reason: "The database is not open" },
      });
    case "close":
      open?.close();
      open = undefined;
      reply({ kind: "closed" });
      self.close();
  }
};

function reply(message: FromWorker): void {
  self.postMessage(message);
}
