/**
 * The Okta-shaped request bodies of bench/load.lua, built in TypeScript for the in-process
 * benchmarks: a new eventId and app user each time, one in five reusing an earlier login.
 */

const MIDDLES = ["Alexander", "Lakshmi", "Marie", "James", "Oluwaseun", "Ines", "Kenji", "Rosa"];
const LASTS = ["smith", "natarajan", "garcia", "nguyen", "okafor", "muller", "tanaka", "silva"];

/** Options for one body. */
export interface BodyOptions {
  readonly eventId: string;
  readonly login: string;
  readonly employeeId: string;
  readonly middleName: string | null;
  readonly conflict: boolean;
  readonly jobId: string;
}

/** An import hook request body like Okta's (fixture 01's shape). */
export function hookBody(o: BodyOptions): string {
  const last = o.login.slice(o.login.indexOf(".") + 1, o.login.indexOf("@"));
  return JSON.stringify({
    source: "calO4FWiXsd9tNNHVrtj",
    eventId: o.eventId,
    eventTime: "2026-03-02T08:15:41.000Z",
    eventTypeVersion: "1.0",
    cloudEventVersion: "0.1",
    eventType: "com.okta.import.transform",
    contentType: "application/json",
    data: {
      context: {
        conflicts: o.conflict ? ["login"] : [],
        application: {
          name: "csv_directory",
          id: "0oay4R1bMQCPua2KlzFi",
          label: "Ridgeline HR Feed",
          status: "ACTIVE",
        },
        job: { id: o.jobId, type: "import:users" },
        matches: [],
        policy: ["EMAIL", "FIRST_AND_LAST_NAME"],
      },
      action: { result: "CREATE_USER" },
      appUser: {
        profile: {
          employeeId: o.employeeId,
          userName: o.login,
          firstName: "User",
          middleName: o.middleName,
          lastName: last,
          email: o.login,
          department: "Logistics",
        },
      },
      user: {
        profile: {
          login: o.login,
          email: o.login,
          firstName: "User",
          middleName: o.middleName,
          lastName: last,
          secondEmail: null,
          mobilePhone: null,
          primaryPhone: null,
          streetAddress: null,
          city: null,
          state: null,
          zipCode: null,
          countryCode: null,
          postAddress: null,
          typeId: null,
        },
      },
    },
  });
}

/** The same sequence of bodies load.lua sends for run `prefix`: every 5th reuses a login. */
export function* loadBodies(prefix: string, random: () => number = Math.random): Generator<string> {
  let unique = 0;
  const loginOf = (k: number) => `${prefix}n${k}.${LASTS[k % LASTS.length]}@bench.example`;
  for (let n = 1;; n++) {
    let login: string;
    let conflict = false;
    if (n % 5 === 0 && unique > 0) {
      login = loginOf(1 + Math.floor(random() * unique));
      conflict = n % 10 === 0;
    } else {
      login = loginOf(++unique);
    }
    yield hookBody({
      eventId: `${prefix}-evt-${n}`,
      login,
      employeeId: `${prefix}-emp-${n}`,
      middleName: MIDDLES[n % MIDDLES.length]!,
      conflict,
      jobId: `job-${prefix}`,
    });
  }
}

/** A small seeded random number generator (mulberry32), so runs are repeatable. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
