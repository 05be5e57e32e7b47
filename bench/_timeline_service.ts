/**
 * The real service (main.ts serve, unchanged), with clocks on the edges between its parts, for
 * bench/timeline.ts. Before main.ts is imported, the objects the parts talk through are wrapped:
 * the guard's sockets (Deno's Conn read and write), the handler given to `Deno.serve`, the
 * database worker's messages (`postMessage`, `onmessage`; the worker's own clock comes back in
 * each group's reply as `durable`), and for a request committed on the serving thread, its
 * transaction's BEGIN and the WAL's fdatasync there. At c=1 requests do not overlap, so one set of stamps is one
 * request: it is written to stderr as `TIMELINE {json}` when the guard has written the response
 * to the client. Times are absolute (`performance.timeOrigin + performance.now()`), in ms.
 *
 * Run by bench/timeline.ts with the service's settings in the environment.
 */

import { DatabaseSync } from "node:sqlite";
import { main } from "../main.ts";

const now = () => performance.timeOrigin + performance.now();
let stamps: Record<string, number> = {};
const encoder = new TextEncoder();

const publicPort = Number(Deno.env.get("PORT"));

// Deno's Conn class: the prototype above TcpConn holds read and write.
const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const probeClient = await Deno.connect({ hostname: "127.0.0.1", port: probe.addr.port });
const accepted = await probe.accept();
const connProto = Object.getPrototypeOf(Object.getPrototypeOf(accepted));
accepted.close();
probeClient.close();
probe.close();

/** The guard's side of a connection: its client's (accepted on PORT), or its upstream's. */
function side(conn: Deno.Conn): "client" | "upstream" {
  return (conn.localAddr as Deno.NetAddr).port === publicPort ? "client" : "upstream";
}

const read = connProto.read as (this: Deno.Conn, p: Uint8Array) => Promise<number | null>;
connProto.read = async function (this: Deno.Conn, p: Uint8Array) {
  const n = await read.call(this, p);
  if (n !== null) {
    if (side(this) === "client") stamps = { guardRead: now() };
    else stamps.guardReadResponse ??= now();
  }
  return n;
};
const write = connProto.write as (this: Deno.Conn, p: Uint8Array) => Promise<number>;
connProto.write = async function (this: Deno.Conn, p: Uint8Array) {
  const n = await write.call(this, p);
  if (side(this) === "upstream") stamps.guardPassedRequest ??= now();
  else if (stamps.handlerEnd !== undefined) {
    stamps.guardWroteResponse = now();
    Deno.stderr.writeSync(encoder.encode(`TIMELINE ${JSON.stringify(stamps)}\n`));
    stamps = {};
  }
  return n;
};

type Handler = (request: Request, info: unknown) => Response | Promise<Response>;
const serve = Deno.serve as (options: Record<string, unknown>, handler: Handler) => unknown;
/** The handler timed: from the call to the response it resolves to. */
function timed(handler: Handler): Handler {
  return async (request, info) => {
    stamps.handlerStart = now();
    const response = await handler(request, info);
    stamps.handlerEnd = now();
    return response;
  };
}
// The service calls Deno.serve(options, handler).
(Deno as { serve: unknown }).serve = (options: Record<string, unknown>, handler: Handler) =>
  serve(options, timed(handler));

const postMessage = Worker.prototype.postMessage;
Worker.prototype.postMessage = function (this: Worker, message: unknown, ...rest: unknown[]) {
  if ((message as { kind?: string }).kind === "group") stamps.handedOff = now();
  return (postMessage as (m: unknown, ...r: unknown[]) => void).call(this, message, ...rest);
};
const onmessage = Object.getOwnPropertyDescriptor(Worker.prototype, "onmessage")!;
Object.defineProperty(Worker.prototype, "onmessage", {
  ...onmessage,
  set(this: Worker, listener: (event: MessageEvent) => void) {
    onmessage.set!.call(this, (event: MessageEvent) => {
      const durable = event.data?.durable;
      if (durable !== undefined) {
        stamps.committed = durable.origin + durable.committedMs;
        stamps.synced = durable.origin + durable.syncedMs;
        stamps.handedBack = now();
      }
      listener(event);
    });
  },
});

// A request alone in flight is committed on this thread (sqlite_store.ts, commitNow): its
// transaction's BEGIN and the WAL's fdatasync are stamped here instead of the worker's messages.
const exec = DatabaseSync.prototype.exec;
DatabaseSync.prototype.exec = function (this: DatabaseSync, sql: string) {
  if (sql.startsWith("BEGIN") && stamps.handlerStart !== undefined) stamps.handedOff ??= now();
  return exec.call(this, sql);
};
const syncDataSync = Deno.FsFile.prototype.syncDataSync;
Deno.FsFile.prototype.syncDataSync = function (this: Deno.FsFile) {
  stamps.committed = now();
  syncDataSync.call(this);
  stamps.synced = now();
  stamps.handedBack = now();
};

Deno.exit(await main(["serve"]));
