import assert from "node:assert/strict";
import { commandVariables, launch } from "./launch.ts";

const PLACES = { cwd: "/home/admin", project: "/opt/okta-import-hook" };

Deno.test("launch() grants the service exactly the paths its settings name", () => {
  const line = launch("serve", [], {
    DB_PATH: "/var/lib/okta-hook/hook.db",
    TLS_CERT_FILE: "/etc/okta-hook/cert.pem",
    TLS_KEY_FILE: "/etc/okta-hook/key.pem",
  }, PLACES);
  assert.deepEqual(line.args.slice(0, 2), ["run", "--v8-flags=--max-semi-space-size=2"]);
  assert.ok(line.args.includes("--allow-net"));
  assert.ok(line.args.includes(
    "--allow-read=/opt/okta-import-hook/data,/var/lib/okta-hook,/opt/okta-import-hook/lib," +
      "/etc/okta-hook/cert.pem,/etc/okta-hook/key.pem",
  ));
  // The certificates are read only: nothing but data/ and the database's directory is written.
  assert.ok(line.args.includes("--allow-write=/opt/okta-import-hook/data,/var/lib/okta-hook"));
  assert.ok(line.args.includes("--allow-sys=statfs"));
  assert.ok(line.args.some((arg) => arg.startsWith("--allow-env=PORT,BIND_ADDRESS,HOSTNAME,")));
  assert.deepEqual(line.args.slice(-2), ["/opt/okta-import-hook/main.ts", "serve"]);
  assert.ok(!line.args.some((arg) => arg === "--allow-all" || arg === "-A"));
});

Deno.test("launch() makes relative settings absolute from the directory the task was started in", () => {
  const line = launch("serve", [], { DB_PATH: "state/hook.db" }, PLACES);
  assert.deepEqual(line.env, { DB_PATH: "/home/admin/state/hook.db" });
  assert.ok(line.args.includes("--allow-write=/opt/okta-import-hook/data,/home/admin/state"));
  // Typed in the project directory, a relative path stays as typed (the process runs there).
  const inProject = launch("serve", [], { DB_PATH: "data/x.db" }, {
    cwd: "/opt/okta-import-hook",
    project: "/opt/okta-import-hook",
  });
  assert.deepEqual(inProject.env, { DB_PATH: "data/x.db" });
});

Deno.test("launch() grants an admin command the files it is given, and no network unless it needs it", () => {
  const seed = launch("seed", ["users.csv"], { DB_PATH: "/srv/hook.db" }, PLACES);
  assert.ok(
    seed.args.includes("--allow-read=/opt/okta-import-hook/data,/srv,/home/admin/users.csv"),
  );
  assert.ok(seed.args.includes("--allow-write=/opt/okta-import-hook/data,/srv"));
  assert.ok(!seed.args.includes("--allow-net"));
  assert.deepEqual(seed.args.slice(-2), ["seed", "/home/admin/users.csv"]);

  const preview = launch(
    "preview",
    ["--id-column", "employeeId", "in/users.csv", "--out=/tmp/plans/plan.json"],
    {},
    PLACES,
  );
  // The file it reads, and the directory --out writes to (checked before any work).
  assert.ok(preview.args.some((arg) => arg.endsWith(",/home/admin/in/users.csv,/tmp/plans")));
  assert.ok(
    preview.args.some((arg) => arg.startsWith("--allow-write=") && arg.endsWith(",/tmp/plans")),
  );
  assert.deepEqual(preview.args.slice(-4), [
    "--id-column",
    "employeeId",
    "/home/admin/in/users.csv",
    "--out=/tmp/plans/plan.json",
  ]);

  const register = launch("register", ["--url", "https://x.example/hooks/import"], {}, PLACES);
  assert.ok(register.args.includes("--allow-net"));
  assert.ok(
    !register.args.some((arg) => arg.startsWith("--allow-read") || arg.startsWith("--allow-write")),
  );
  assert.ok(launch("sync", [], {}, PLACES).args.includes("--allow-net"));
  assert.ok(!launch("audit", ["summary"], {}, PLACES).args.includes("--allow-net"));
});

Deno.test("main.ts runs exactly the commands of the one command table", async () => {
  const { RUNNERS } = await import("../main.ts");
  const { COMMANDS } = await import("./commands.ts");
  assert.deepEqual(Object.keys(RUNNERS).sort(), Object.keys(COMMANDS).sort());
  const { CONFIG_VARIABLES } = await import("./config.ts");
  assert.deepEqual([...commandVariables("serve")], [...CONFIG_VARIABLES]);
});

Deno.test("the launcher reads a command's file arguments from the table's options", () => {
  // A preview option that takes a value is not mistaken for the file; --out's directory is writable.
  const line = launch(
    "preview",
    ["--id-column", "empId", "--out=/srv/out/plan.csv", "users.csv"],
    {},
    {
      cwd: "/work",
      project: "/work",
    },
  );
  const read = line.args.find((arg) => arg.startsWith("--allow-read="))!;
  const write = line.args.find((arg) => arg.startsWith("--allow-write="))!;
  assert.ok(read.split("=")[1]!.split(",").includes("/work/users.csv"), read);
  assert.ok(!read.includes("empId"), read);
  assert.ok(write.split("=")[1]!.split(",").includes("/srv/out"), write);
});
