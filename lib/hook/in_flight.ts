/** The handler's requests in flight: how many, and signals for a stop and for tests. */

import type { Handler } from "./routes.ts";

/** Counts what `track`ed handlers are working on. */
export interface InFlight {
  /** `handler`, counted; `onConnection` hears each request begin (1) and end (-1). */
  track(
    handler: Handler,
    onConnection: (info: Deno.ServeHandlerInfo, delta: 1 | -1) => void,
  ): Handler;
  /** Requests in flight now. */
  count(): number;
  /** Resolves once none is. */
  idle(): Promise<void>;
  /** Resolves when the next request begins. */
  nextStart(): Promise<void>;
}

/** Counts the handler's requests in flight, so a stop can wait until none is. */
export function requestsInFlight(): InFlight {
  let count = 0;
  let idle: PromiseWithResolvers<void> | null = null;
  let started: PromiseWithResolvers<void> | null = null;
  return {
    track(
      handler: Handler,
      onConnection: (info: Deno.ServeHandlerInfo, delta: 1 | -1) => void,
    ): Handler {
      return async (request, info) => {
        count++;
        onConnection(info, 1);
        started?.resolve();
        started = null;
        try {
          return await handler(request, info);
        } finally {
          onConnection(info, -1);
          if (--count === 0) {
            idle?.resolve();
            idle = null;
          }
        }
      };
    },
    count: () => count,
    idle(): Promise<void> {
      if (count === 0) return Promise.resolve();
      idle ??= Promise.withResolvers();
      return idle.promise;
    },
    nextStart(): Promise<void> {
      started ??= Promise.withResolvers();
      return started.promise;
    },
  };
}
