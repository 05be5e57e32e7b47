/**
 * A real PostgreSQL for the tests: the cluster `.ci/run` started (`TEST_PG_URL`, `TEST_PG_DATA`),
 * or else one this process starts with tests/pg_cluster.sh (Debian's `initdb` and `pg_ctl`, in a
 * temporary directory, as a non-root user) and stops when it exits. Each test gets a database of
 * its own.
 */

import postgres from "postgres";

/** Where the cluster is and how to reach it. */
export interface Cluster {
  /** `postgres://` URL of its superuser, without a database name. */
  readonly url: string;
  readonly dataDir: string;
}

let started: Promise<Cluster> | null = null;

/** The cluster, started on first use. */
export function cluster(): Promise<Cluster> {
  started ??= startCluster();
  return started;
}

/** A fresh, empty database on the cluster; its URL. Dropped by `drop`. */
export async function withPostgresDatabase<T>(
  test: (url: string) => Promise<T>,
): Promise<T> {
  const { url } = await cluster();
  const name = `t_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = postgres(`${url}/postgres`, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  try {
    return await test(`${url}/${name}`);
  } finally {
    const again = postgres(`${url}/postgres`, { max: 1, onnotice: () => {} });
    try {
      await again.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await again.end();
    }
  }
}

/** Stops the cluster and starts it again (`pg_ctl restart`); resolves once it accepts again. */
export async function restartCluster(mode: "fast" | "immediate" = "fast"): Promise<void> {
  const { dataDir } = await cluster();
  await script(["restart", dataDir, mode]);
}

/** Stops the cluster, keeping its data, until {@link resumeCluster}. */
export async function pauseCluster(): Promise<void> {
  await script(["pause", (await cluster()).dataDir]);
}

/** Starts a paused cluster; resolves once it accepts connections. */
export async function resumeCluster(): Promise<void> {
  await script(["resume", (await cluster()).dataDir]);
}

const SCRIPT = new URL("./pg_cluster.sh", import.meta.url).pathname;

async function startCluster(): Promise<Cluster> {
  const given = Deno.env.get("TEST_PG_URL");
  if (given !== undefined && given !== "") {
    return { url: given.replace(/\/$/, ""), dataDir: Deno.env.get("TEST_PG_DATA") ?? "" };
  }
  const [url, dataDir] = (await script(["start"])).trim().split(" ");
  globalThis.addEventListener("unload", () => {
    new Deno.Command("bash", { args: [SCRIPT, "stop", dataDir!], stdout: "null", stderr: "null" })
      .outputSync();
  });
  return { url: url!, dataDir: dataDir! };
}

/** Runs tests/pg_cluster.sh (it may run the server as another user); its stdout. */
async function script(args: string[]): Promise<string> {
  const output = await new Deno.Command("bash", {
    args: [SCRIPT, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(
      `pg_cluster.sh ${args[0]} failed: ${new TextDecoder().decode(output.stderr).trim()}`,
    );
  }
  return new TextDecoder().decode(output.stdout);
}
