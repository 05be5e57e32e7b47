import assert from "node:assert/strict";
import { guardDriverErrors } from "./postgres.ts";

function errorAt(file: string): Error {
  const error = new TypeError("Cannot read properties of null (reading 'write')");
  error.stack = `TypeError: ${error.message}\n    at nextWrite (${file}:255:22)`;
  return error;
}

Deno.test("guardDriverErrors() stops and logs the driver's stray errors, and only those", () => {
  const logged: unknown[] = [];
  const unguard = guardDriverErrors((error) => logged.push(error));
  try {
    const driver = errorAt(
      "file:///root/.cache/deno/npm/registry.npmjs.org/postgres/3.4.9/src/connection.js",
    );
    const stray = new ErrorEvent("error", { error: driver, cancelable: true });
    globalThis.dispatchEvent(stray);
    assert.equal(stray.defaultPrevented, true);
    assert.deepEqual(logged, [driver]);

    const ours = new ErrorEvent("error", {
      error: errorAt("file:///work/main/lib/hook/routes.ts"),
      cancelable: true,
    });
    globalThis.dispatchEvent(ours);
    assert.equal(ours.defaultPrevented, false);
    assert.equal(logged.length, 1);
  } finally {
    unguard();
  }
  const after = new ErrorEvent("error", {
    error: errorAt("file:///x/postgres/3.4.9/src/connection.js"),
    cancelable: true,
  });
  globalThis.dispatchEvent(after);
  assert.equal(after.defaultPrevented, false);
});
