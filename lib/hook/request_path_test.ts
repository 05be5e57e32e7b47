import assert from "node:assert/strict";
import { requestPath } from "./request_path.ts";

function request(url: string, host: string | null): Request {
  const headers = new Headers();
  if (host !== null) headers.set("host", host);
  return new Request(url, { headers });
}

Deno.test("requestPath() reads the target after the Host header's authority, without query", () => {
  assert.equal(
    requestPath(request("https://h.example:8443/hooks/import?x=1", "h.example:8443")),
    "/hooks/import",
  );
  assert.equal(requestPath(request("https://h.example/healthz#frag", "h.example")), "/healthz");
});

Deno.test("requestPath() is not moved by a Host header holding a slash or an unknown authority", () => {
  // A Host of "a/b" makes Deno's URL "https://a/b/hooks/import": the path still starts after it.
  assert.equal(requestPath(request("https://a/b/hooks/import", "a/b")), "/hooks/import");
  // Without a Host header the authority ends at the first slash.
  assert.equal(requestPath(request("https://127.0.0.1:1/x/y", null)), "/x/y");
  assert.equal(requestPath(request("https://127.0.0.1:1/", "other")), "/");
});
