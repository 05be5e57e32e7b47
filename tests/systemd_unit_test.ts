/**
 * deploy/okta-import-hook.service, checked as systemd would and run as written: its paths moved
 * to a temporary directory, its ExecStart run as a non-root user created for the test (and
 * removed after), with the unit's environment and umask. That user gets its own copy of the
 * code and of Deno, as an install under /opt would: the checkout and Deno (which `npx` keeps in
 * root's home) may sit where only root can read.
 */

import { VERSION } from "../lib/version.ts";
import assert from "node:assert/strict";
import { createSelfSignedCertificate } from "../lib/hook/dev_credentials.ts";
import {
  logLines,
  makeTempDir,
  notInstalled,
  runChecked,
  TEST_SECRET,
  withDeadline,
} from "./_test_utils.ts";

const PROJECT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const UNIT = new URL("../deploy/okta-import-hook.service", import.meta.url);

/** What an install copies to /opt/okta-import-hook: the code, without tests or data. */
const INSTALLED = ["main.ts", "lib", "deno.json", "deno.lock"];

/** The unit with its install paths moved: the code to `install`, Deno to `deno`. */
async function localUnit(install: string, deno: string): Promise<string> {
  return (await Deno.readTextFile(UNIT))
    .replaceAll("/opt/okta-import-hook/tools/deno", deno)
    .replaceAll("/opt/okta-import-hook", install);
}

/** `Key=value` lines of the unit's [Service] section, in order. */
function service(unit: string, key: string): string[] {
  const section = unit.slice(unit.indexOf("[Service]"), unit.indexOf("[Install]"));
  return section.split("\n").filter((line) => line.startsWith(`${key}=`)).map((line) =>
    line.slice(key.length + 1)
  );
}

Deno.test("systemd-analyze verify accepts the unit", async () => {
  const dir = await makeTempDir("unit-");
  try {
    const unit = await localUnit(PROJECT, await Deno.realPath(Deno.execPath()));
    await Deno.writeTextFile(`${dir}/okta-import-hook.service`, unit);
    const output = await new Deno.Command("systemd-analyze", {
      args: ["verify", `${dir}/okta-import-hook.service`],
      stdout: "piped",
      stderr: "piped",
    }).output().catch((error) => {
      throw error instanceof Deno.errors.NotFound ? notInstalled("systemd-analyze") : error;
    });
    const text = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, text);
    assert.equal(text.trim(), "", text);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the unit's ExecStart, run as written by a non-root user, serves /healthz 200", async () => {
  const user = `okta-hook-test-${Math.floor(Math.random() * 1e6)}`;
  const root = await runChecked("mktemp", ["-d", "/tmp/okta-hook-unit-XXXXXX"]);
  const install = `${root}/opt`;
  const unit = await localUnit(install, `${install}/tools/deno`);
  assert.deepEqual(service(unit, "User"), ["okta-hook"]);
  assert.ok(service(unit, "NoNewPrivileges").includes("yes"));
  assert.deepEqual(service(unit, "ExecReload"), ["/bin/kill -HUP $MAINPID"]);
  await runChecked("useradd", [
    "--system",
    "--no-create-home",
    "--shell",
    "/usr/sbin/nologin",
    user,
  ]);
  try {
    const uid = await runChecked("id", ["-u", user]);
    const gid = await runChecked("id", ["-g", user]);
    // What the unit's StateDirectory=, CacheDirectory= and /etc give the service, in one place.
    const pair = await createSelfSignedCertificate();
    await runChecked("mkdir", [
      "-p",
      `${root}/state`,
      `${root}/etc`,
      `${root}/cache/deno`,
      `${install}/tools`,
      `${install}/data`,
    ]);
    // The install: the code and a pinned Deno, readable by the service's user wherever this
    // checkout and the Deno running the tests are.
    await runChecked("cp", ["-r", ...INSTALLED.map((name) => `${PROJECT}/${name}`), install]);
    await runChecked("cp", [await Deno.realPath(Deno.execPath()), `${install}/tools/deno`]);
    await runChecked("sh", ["-c", `cat > ${root}/etc/cert.pem`], pair.cert);
    await runChecked("sh", ["-c", `cat > ${root}/etc/key.pem`], pair.key);
    // Deno's package cache, as the first start would have filled CacheDirectory.
    const info = JSON.parse(await runChecked(Deno.execPath(), ["info", "--json"]));
    await runChecked("cp", ["-r", `${info.denoDir}/npm`, `${root}/cache/deno/npm`]);
    await runChecked("chown", ["-R", `${uid}:${gid}`, root]);
    await runChecked("chmod", ["700", `${root}/state`]);

    const env: Record<string, string> = {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOOK_AUTH_SECRET: TEST_SECRET, // from the EnvironmentFile in production
      BIND_ADDRESS: "127.0.0.1",
      PORT: "0",
    };
    for (const line of service(unit, "Environment")) {
      const [name, value] = line.split("=", 2) as [string, string];
      env[name] = value
        .replace("/var/lib/okta-import-hook", `${root}/state`)
        .replace("/etc/okta-import-hook", `${root}/etc`)
        .replace("/var/cache/okta-import-hook", `${root}/cache`);
    }
    const [execStart] = service(unit, "ExecStart");
    const [umask] = service(unit, "UMask");
    const [workingDirectory] = service(unit, "WorkingDirectory");
    assert.equal(workingDirectory, install);
    const child = new Deno.Command("setpriv", {
      args: [
        `--reuid=${uid}`,
        `--regid=${gid}`,
        "--clear-groups",
        "--no-new-privs",
        "sh",
        "-c",
        `umask ${umask} && exec ${execStart}`,
      ],
      cwd: workingDirectory,
      env,
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const { listening, reading } = logLines(child);
    const stderr = new Response(child.stderr).text();
    try {
      const url = new URL(await withDeadline(listening, 60_000, "the Listening line"));
      const client = Deno.createHttpClient({ caCerts: [pair.cert] });
      try {
        const health = await fetch(`https://localhost:${url.port}/healthz`, { client });
        assert.equal(health.status, 200);
        assert.deepEqual(await health.json(), { status: "ok", version: VERSION });
      } finally {
        client.close();
      }
      // The database went to the state directory, owned by the service's user, mode 0600.
      assert.match(
        await runChecked("stat", ["-c", "%u %a", `${root}/state/hook.db`]),
        new RegExp(`^${uid} 600$`),
      );
    } finally {
      try {
        child.kill("SIGTERM"); // what systemd sends to the main process on stop
      } catch { /* it already ended: its status and stderr below say why */ }
      const status = await withDeadline(child.status, 30_000, "the service to stop");
      await reading.catch(() => {});
      assert.equal(status.code, 0, await stderr);
    }

    // The same user asking for port 443 gets one line naming PORT and what to do.
    const privileged = await new Deno.Command("setpriv", {
      args: [`--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "sh", "-c", `exec ${execStart}`],
      cwd: workingDirectory,
      env: { ...env, PORT: "443" },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const refused = new TextDecoder().decode(privileged.stderr).trim();
    assert.equal(privileged.code, 1, refused);
    assert.match(
      refused,
      /^Cannot start: Cannot listen on PORT 443: permission denied \(a port below 1024 needs root or CAP_NET_BIND_SERVICE/,
    );
  } finally {
    await runChecked("userdel", [user]).catch(() => {});
    await runChecked("rm", ["-rf", root]);
  }
});

Deno.test("a tool the tests need that is missing fails with one line naming its package and .ci/run", async () => {
  await assert.rejects(
    runChecked("systemd-analyze-not-here", ["verify"]),
    (error: Error) =>
      error.message ===
        "systemd-analyze-not-here is not installed: apt-get install -y systemd-analyze-not-here, " +
          "or run the README's test command, bash .ci/run, as root (it installs what the tests need)",
  );
  assert.match(notInstalled("systemd-analyze").message, /apt-get install -y systemd,/);
  const script = new URL("./pg_cluster.sh", import.meta.url).pathname;
  const text = await Deno.readTextFile(script);
  assert.match(
    text,
    /PostgreSQL is not installed: apt-get install -y postgresql, or run .*\.ci\/run/,
  );
});
