/**
 * The database worker behind {@link openDecisionStore}: owns the connection, runs every decision
 * and rejection record through group commit, and answers each once its group is committed.
 */

/// <reference lib="deno.worker" />

import { AuditLog } from "./audit.ts";
import { openDatabase } from "./database.ts";
import { decideEvent } from "./decide_event.ts";
import type { StoreReply, StoreRequest } from "./decision_store.ts";
import { CommitError, GroupCommit } from "./group_commit.ts";
import { LoginIndex } from "./login_index.ts";

let state: { close(): void; handle(request: StoreRequest): void } | undefined;

function reply(message: StoreReply): void {
  self.postMessage(message);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

self.onmessage = (message: MessageEvent<StoreRequest>) => {
  const request = message.data;
  if (request.kind === "open") {
    try {
      const { settings } = request;
      const db = openDatabase(settings.dbPath, { busyTimeoutMs: settings.busyTimeoutMs });
      const commit = new GroupCommit(db, {
        maxSize: settings.groupCommitMax,
        windowMs: settings.groupCommitWindowMs,
      });
      const deps = {
        index: new LoginIndex(db),
        audit: new AuditLog(db),
        strategies: settings.strategies,
      };
      const settle = (id: number, work: Promise<unknown>) =>
        work.then(
          (value) => reply({ kind: "done", id, value: (value ?? null) as never }),
          (error) =>
            reply({
              kind: "error",
              id,
              commit: error instanceof CommitError,
              message: describe(error),
              cause: error instanceof Error && error.cause !== undefined
                ? describe(error.cause)
                : null,
            }),
        );
      state = {
        close() {
          commit.close();
          db.close();
        },
        handle(request) {
          if (request.kind === "decide") {
            const startedMs = performance.now() - request.elapsedMs;
            settle(
              request.id,
              commit.run(() =>
                decideEvent(request.event, deps, {
                  receivedAt: request.receivedAt,
                  startedMs,
                  nowMs: () => performance.now(),
                })
              ),
            );
          } else if (request.kind === "reject") {
            settle(request.id, commit.run(() => deps.audit.recordRejection(request.record)));
          }
        },
      };
      reply({ kind: "opened" });
    } catch (error) {
      reply({ kind: "failed", message: describe(error) });
    }
    return;
  }
  if (request.kind === "close") {
    state?.close();
    state = undefined;
    reply({ kind: "closed" });
    self.close();
    return;
  }
  state?.handle(request);
};
