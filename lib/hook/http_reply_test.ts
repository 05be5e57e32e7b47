import assert from "node:assert/strict";
import { errorReply } from "../decision/okta_response.ts";
import { toResponse } from "./http_reply.ts";

Deno.test("toResponse() sends JSON with its content type and an empty body without one", async () => {
  const json = toResponse(errorReply(400, "Bad"), { "retry-after": "1" });
  assert.equal(json.headers.get("content-type"), "application/json");
  assert.equal(json.headers.get("retry-after"), "1");
  assert.deepEqual(await json.json(), { error: { errorSummary: "Bad" } });
  const empty = toResponse({ status: 204, body: null });
  assert.equal(empty.status, 204);
  assert.equal(empty.headers.get("content-type"), null);
  assert.equal(await empty.text(), "");
});
