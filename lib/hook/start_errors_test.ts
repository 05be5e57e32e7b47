import assert from "node:assert/strict";
import { dbFileProblem, listenError, storeError, tlsError, tlsProblem } from "./start_errors.ts";

const TLS = { tls: { certFile: "/etc/hook/cert.pem", keyFile: "/etc/hook/key.pem" } };

Deno.test("tlsProblem() names the file at fault for each message Deno.serve gives", () => {
  assert.deepEqual(tlsProblem("No certificates found in cert file"), [
    "TLS_CERT_FILE",
    "holds no PEM certificate",
  ]);
  assert.deepEqual(tlsProblem("No keys found in key file"), [
    "TLS_KEY_FILE",
    "holds no PEM private key",
  ]);
  const mismatch = ["TLS_KEY_FILE", "does not match the certificate in TLS_CERT_FILE"];
  assert.deepEqual(tlsProblem("KeyMismatch"), mismatch);
  assert.deepEqual(
    tlsProblem("the private key and certificate keys may not be consistent"),
    mismatch,
  );
  assert.deepEqual(tlsProblem("something new"), [
    "TLS_CERT_FILE",
    "cannot be served: something new",
  ]);
});

Deno.test("tlsError() is one line naming the variable and its file", () => {
  const error = tlsError(new Error("No keys found"), TLS);
  assert.equal(error.setting, "TLS_KEY_FILE");
  assert.equal(
    error.message,
    'Cannot use TLS_KEY_FILE "/etc/hook/key.pem": it holds no PEM private key',
  );
});

Deno.test("dbFileProblem() words each message a database file gives in an operator's terms", () => {
  const unwritable =
    "it cannot be created or opened here (is the directory writable by this user?)";
  assert.equal(
    dbFileProblem("NotFound: No such file or directory (os error 2)"),
    "its directory does not exist",
  );
  assert.equal(dbFileProblem("No such file or directory"), "its directory does not exist");
  assert.equal(dbFileProblem("PermissionDenied: Permission denied (os error 13)"), unwritable);
  assert.equal(dbFileProblem("attempt to write a readonly database"), unwritable);
  assert.equal(dbFileProblem("unable to open database file"), unwritable);
  assert.equal(
    dbFileProblem("database disk image is malformed"),
    "database disk image is malformed",
  );
});

Deno.test("storeError() names DATABASE_URL without its password, or DB_PATH with the cause", () => {
  const pg = storeError(new Error("connection refused"), {
    databaseUrl: "postgres://hook:s3cret@db.internal:5432/hook",
    dbPath: "data/hook.db",
  });
  assert.equal(pg.setting, "DATABASE_URL");
  assert.doesNotMatch(pg.message, /s3cret/);
  assert.match(pg.message, /connection refused$/);
  const file = storeError(new Error("unable to open database file"), {
    databaseUrl: null,
    dbPath: "/nope/hook.db",
  });
  assert.equal(file.setting, "DB_PATH");
  assert.match(file.message, /^Cannot open DB_PATH "\/nope\/hook.db": it cannot be created/);
});

Deno.test("listenError() tells Deno's errors apart by class, naming PORT or BIND_ADDRESS", () => {
  const config = { port: 443, hostname: "203.0.113.9" };
  const denied = listenError(new Deno.errors.PermissionDenied("x"), config);
  assert.equal(denied.setting, "PORT");
  assert.match(denied.message, /permission denied \(a port below 1024 needs root/);
  const inUse = listenError(new Deno.errors.AddrInUse("x"), config);
  assert.equal(inUse.message, "Cannot listen on PORT 443: it is in use on 203.0.113.9");
  const notHere = listenError(new Deno.errors.AddrNotAvailable("x"), config);
  assert.equal(notHere.setting, "BIND_ADDRESS");
  assert.match(notHere.message, /not an address of this machine/);
  assert.equal(listenError(new URIError("bad"), config).setting, "BIND_ADDRESS");
  assert.equal(listenError(new Error("other"), config).setting, "PORT");
});
