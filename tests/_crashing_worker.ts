/**
 * A stand-in for lib/decision_worker.ts that opens fine and then dies on its first group, as a
 * worker would on a bug or an out-of-memory: the store must refuse everything from then on.
 */

/// <reference lib="deno.worker" />

import type { ToWorker } from "../lib/store/worker_protocol.ts";

self.onmessage = (message: MessageEvent<ToWorker>) => {
  if (message.data.kind === "open") self.postMessage({ kind: "opened" });
  if (message.data.kind === "group") throw new Error("worker crashed");
};
