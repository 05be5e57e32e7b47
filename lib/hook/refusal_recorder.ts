/** Unauthenticated refusals, counted per minute and written a minute at a time. */

import type { RejectionRecord } from "../decision/records.ts";
import type { Logger } from "../log.ts";
import type { DecisionStore } from "../store/decision_store.ts";
import { RefusalCounter } from "./refusals.ts";

/** Counts refusals and writes them. */
export interface RefusalRecorder {
  /** Counts one refusal; warns of the first of its kind in a minute at once. */
  count(record: RejectionRecord): void;
  /** Writes what is counted now, rather than when its minute ends. */
  flush(): Promise<void>;
}

/**
 * Counts unauthenticated refusals (see {@link RefusalCounter}) and writes each minute's rows when
 * the minute is over, or at stop. The first refusal of a kind in a minute is a warn line at once;
 * the minute's count follows in another when there were more.
 */
export function refusalRecorder(
  store: Pick<DecisionStore, "recordRejection">,
  log: Logger,
): RefusalRecorder {
  const counter = new RefusalCounter();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const write = async (rows: readonly RejectionRecord[]) => {
    for (const row of rows) {
      if ((row.count ?? 1) > 1) {
        log.warn("Refused requests without valid credentials", {
          count: row.count,
          status: row.status,
          reason: row.reason,
          remoteAddr: row.remoteAddr,
          since: row.receivedAt,
        });
      }
    }
    await Promise.all(
      rows.map((row) =>
        store.recordRejection(row).catch((error) =>
          log.error("Could not record refusals", error, { count: row.count })
        )
      ),
    );
  };
  const flush = async () => {
    clearTimeout(timer);
    timer = undefined;
    await write(counter.flush());
  };
  return {
    flush,
    count(record: RejectionRecord): void {
      const { first, done } = counter.add(record);
      if (done.length > 0) void write(done);
      if (first) {
        log.warn("Refused a request without valid credentials", {
          status: record.status,
          reason: record.reason,
          remoteAddr: record.remoteAddr,
        });
      }
      if (timer === undefined) {
        // Just after the minute ends, so its rows are written even if no request follows.
        const id = setTimeout(flush, 60_050 - (Date.parse(record.receivedAt) % 60_000));
        Deno.unrefTimer(id);
        timer = id;
      }
    },
  };
}
