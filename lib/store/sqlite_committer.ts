/**
 * The SQLite connection that commits groups: each group in one transaction ({@link commitGroup}:
 * a savepoint per item, one COMMIT), then the fdatasync of the WAL and the file checks, all
 * synchronous. The database worker (decision_worker.ts) runs one; the serving thread runs
 * another for a request that is alone in flight (sqlite_store.ts), so it skips two thread hops.
 */

import { AuditLog } from "./sqlite_audit.ts";
import { ensureReserve, openDatabase, truncateWal } from "./database.ts";
import { type Decided, decideEvent } from "../decision/decide_event.ts";
import type {
  FromWorker,
  Health,
  ItemResult,
  StoreItem,
  StoreSettings,
} from "./worker_protocol.ts";
import { statfsSync } from "node:fs";
import { commitGroup } from "./group_commit.ts";
import { LoginIndex, sqlitePort } from "./sqlite_login_index.ts";
import { describeError, messageOf } from "../log.ts";

/** An open committer. */
export interface Committer {
  readonly close: () => void;
  /** Decides and commits `items`, syncs the WAL and checks the files; the worker's reply. */
  readonly commit: (items: readonly StoreItem[]) => FromWorker;
  readonly health: () => Health;
  /** A commit succeeded on another connection: a failure of this one's last is no longer news. */
  readonly committedElsewhere: () => void;
}

/** Below this much free space (or 5% of a smaller file system), health says so. */
export const LOW_SPACE_BYTES = 16 * 1024 * 1024;

/** Opens (and migrates) the database at `settings.dbPath` for committing groups. */
export function openCommitter(settings: StoreSettings): Committer {
  // NORMAL: a COMMIT writes the WAL without an fsync; the worker fdatasyncs the WAL itself after
  // each group's COMMIT and before any of its answers (docs/architecture.md, "Durability").
  const db = openDatabase(settings.dbPath, {
    busyTimeoutMs: settings.busyTimeoutMs,
    synchronous: "NORMAL",
    journalsInMemory: true,
  });
  ensureReserve(settings.dbPath);
  const walPath = `${settings.dbPath}-wal`;
  // The WAL exists from the first transaction on (migrations read); it is not deleted while this
  // connection is open, only truncated or restarted from its beginning, which this fd follows.
  db.prepare("SELECT count(*) FROM logins").get();
  const wal = Deno.openSync(walPath, { read: true });
  const walIdentity = identity(walPath);
  const audit = new AuditLog(db);
  // Made once: every decision of this worker asks its questions of the same connection.
  const port = sqlitePort(new LoginIndex(db), audit);
  const select1 = db.prepare("SELECT 1 AS ok");
  const file = identity(settings.dbPath);
  /** Set once the file at DB_PATH is no longer the one open: nothing is committed after. */
  let lost: string | null = null;
  /** The last group's failure, until a group commits again. */
  let failed: string | null = null;
  const work = (item: StoreItem) => (): unknown => {
    if (item.kind === "reject") {
      audit.recordRejection(item.record);
      return null;
    }
    return decideEvent(
      item.event,
      port,
      settings.strategies,
      item,
      undefined,
      settings.personMatch ?? "off",
    );
  };
  return {
    close: () => {
      db.close();
      wal.close();
    },
    committedElsewhere: () => {
      failed = null;
    },
    health: () => {
      lost ??= fileLost(settings.dbPath, file);
      if (lost !== null) return { ok: false, reason: lost };
      if (failed !== null) return { ok: false, reason: `The last commit failed: ${failed}` };
      try {
        select1.get();
      } catch (error) {
        return { ok: false, reason: `The database does not answer: ${messageOf(error)}` };
      }
      const space = diskSpace(settings.dbPath);
      const free = space?.free ?? Infinity;
      if (space !== null && free < Math.min(LOW_SPACE_BYTES, space.total / 20)) {
        return {
          ok: false,
          reason: `Only ${Math.floor(free / 1024)} KiB free on the database's disk`,
        };
      }
      return { ok: true };
    },
    commit(items) {
      if (lost !== null) return { kind: "not-committed", message: lost, cause: "" };
      let results: ItemResult[];
      try {
        results = commitGroup(db, items.map(work)).map((outcome): ItemResult =>
          outcome.ok
            ? { ok: true, value: outcome.value as Decided | null }
            : { ok: false, message: describeError(outcome.error) }
        );
      } catch (error) {
        failed = error instanceof Error ? describeError(error.cause) : messageOf(error);
        truncateWal(db);
        return {
          kind: "not-committed",
          message: messageOf(error),
          cause: error instanceof Error ? describeError(error.cause) : "",
        };
      }
      // The group's COMMIT has returned: its frames are in the WAL. Now they are made durable,
      // before any of its answers leaves.
      const committedMs = performance.now();
      try {
        wal.syncDataSync();
      } catch (error) {
        failed = `fdatasync of the WAL failed: ${messageOf(error)}`;
        return { kind: "not-committed", message: failed, cause: describeError(error) };
      }
      const syncedMs = performance.now();
      failed = null;
      // Checked after COMMIT, before any answer: a file deleted or replaced meanwhile took this
      // group with it, so it is not answered as committed, and nothing is committed after.
      lost = fileLost(settings.dbPath, file) ?? fileLost(walPath, walIdentity);
      if (lost !== null) return { kind: "not-committed", message: lost, cause: "" };
      const origin = performance.timeOrigin;
      return { kind: "committed", results, durable: { origin, committedMs, syncedMs } };
    },
  };
}

/** The file's device and inode: what stays the same while it is the same file. */
function identity(path: string): string {
  const info = Deno.statSync(path);
  return `${info.dev}:${info.ino}`;
}

/** Why the file at `path` is no longer the one opened as `file`, or `null` while it is. */
function fileLost(path: string, file: string): string | null {
  let now: string;
  try {
    now = identity(path);
  } catch {
    return `The database file ${path} (DB_PATH) was deleted: restart the service once it is restored`;
  }
  return now === file
    ? null
    : `The database file ${path} (DB_PATH) was replaced: restart the service to use the new one`;
}

/** Free and total bytes of the file system holding `path`, or `null` when they cannot be read. */
function diskSpace(path: string): { free: number; total: number } | null {
  try {
    const fs = statfsSync(path);
    return { free: fs.bavail * fs.bsize, total: fs.blocks * fs.bsize };
  } catch {
    return null;
  }
}
