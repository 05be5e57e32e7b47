import assert from "node:assert/strict";
import { ConfigError } from "../config.ts";
import {
  nextLink,
  OktaApiError,
  OktaAuthError,
  OktaClient,
  type OktaClientOptions,
  type OktaWait,
  parseOktaEnv,
} from "./okta_api.ts";
import { makeUsers, startFakeOkta } from "../../tests/_fake_okta.ts";

const TOKEN = "00fakeToken-0123456789abcdef";

/** A client whose sleeps return at once and are recorded. */
function recordingClient(orgUrl: string, options: OktaClientOptions = {}) {
  const waits: OktaWait[] = [];
  const client = new OktaClient(parseOktaEnv({ OKTA_ORG_URL: orgUrl, OKTA_API_TOKEN: TOKEN }), {
    sleep: () => Promise.resolve(),
    onWait: (wait) => waits.push(wait),
    ...options,
  });
  return { client, waits };
}

async function collect(client: OktaClient, path: string): Promise<unknown[]> {
  const users: unknown[] = [];
  for await (const page of client.pages(path)) users.push(...page);
  return users;
}

Deno.test("parseOktaEnv() refuses an OKTA_ORG_URL that is not https://, naming the variable", () => {
  assert.throws(
    () => parseOktaEnv({ OKTA_ORG_URL: "http://acme.okta.com", OKTA_API_TOKEN: TOKEN }),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.message ===
        'Cannot read OKTA_ORG_URL: "http://acme.okta.com" does not start with https://',
  );
  assert.throws(
    () => parseOktaEnv({ OKTA_API_TOKEN: TOKEN }),
    /^ConfigError: Cannot read OKTA_ORG_URL/,
  );
  assert.throws(
    () => parseOktaEnv({ OKTA_ORG_URL: "https://acme.okta.com/admin", OKTA_API_TOKEN: TOKEN }),
    /OKTA_ORG_URL: "https:\/\/acme.okta.com\/admin" has a path/,
  );
});

Deno.test("parseOktaEnv() accepts plain http on loopback only, and https anywhere", () => {
  assert.equal(
    parseOktaEnv({ OKTA_ORG_URL: "http://127.0.0.1:8080", OKTA_API_TOKEN: TOKEN }).orgUrl.href,
    "http://127.0.0.1:8080/",
  );
  assert.equal(
    parseOktaEnv({ OKTA_ORG_URL: "https://acme.okta.com/", OKTA_API_TOKEN: TOKEN }).orgUrl.href,
    "https://acme.okta.com/",
  );
});

Deno.test("parseOktaEnv() names OKTA_API_TOKEN when it is missing or malformed, never its value", () => {
  assert.throws(
    () => parseOktaEnv({ OKTA_ORG_URL: "https://acme.okta.com" }),
    /^ConfigError: Cannot read OKTA_API_TOKEN: it must be set/,
  );
  assert.throws(
    () => parseOktaEnv({ OKTA_ORG_URL: "https://acme.okta.com", OKTA_API_TOKEN: "abc def\n" }),
    (error: unknown) =>
      error instanceof ConfigError && /OKTA_API_TOKEN/.test(error.message) &&
      !error.message.includes("abc"),
  );
  // Pasted with its scheme: the scheme is dropped.
  assert.equal(
    parseOktaEnv({ OKTA_ORG_URL: "https://acme.okta.com", OKTA_API_TOKEN: `SSWS ${TOKEN}` }).token,
    TOKEN,
  );
});

Deno.test("nextLink() finds rel=next among several links, commas in the URL included", () => {
  const header = '<https://o.example/api/v1/users?limit=2&fields=id,status>; rel="self", ' +
    '<https://o.example/api/v1/users?after=a,b&limit=2>; rel="next"';
  assert.equal(nextLink(header), "https://o.example/api/v1/users?after=a,b&limit=2");
  assert.equal(nextLink('<https://o.example/a>; rel="self"'), null);
  assert.equal(nextLink(null), null);
});

Deno.test("OktaClient.pages() follows the next links exactly as given until there is none", async () => {
  const fake = await startFakeOkta({ token: TOKEN, users: makeUsers(7), pageSize: 3 });
  try {
    const { client } = recordingClient(fake.url);
    const users = await collect(client, "/api/v1/users?limit=200");
    assert.deepEqual(users.map((u) => (u as { id: string }).id), makeUsers(7).map((u) => u.id));
    assert.deepEqual(fake.requests.map((r) => r.url), [
      "/api/v1/users?limit=200",
      `/api/v1/users?limit=200&after=${encodeURIComponent(btoa("2"))}`,
      `/api/v1/users?limit=200&after=${encodeURIComponent(btoa("5"))}`,
    ]);
    assert.ok(fake.requests.every((r) => r.authorization === `SSWS ${TOKEN}`));
  } finally {
    await fake.close();
  }
});

Deno.test("OktaClient waits until X-Rate-Limit-Reset after a 429, then retries", async () => {
  const fake = await startFakeOkta({ token: TOKEN, users: makeUsers(2) });
  try {
    fake.faults.push({ status: 429, resetInSeconds: 1 });
    const { client, waits } = recordingClient(fake.url);
    assert.equal((await collect(client, "/api/v1/users")).length, 2);
    assert.equal(fake.requests.length, 2);
    assert.equal(waits.length, 1);
    assert.equal(waits[0]!.reason, "429");
    // One second ahead by the server's clock: whole seconds in the reset (rounded up) and in
    // the Date header (which Deno.serve caches for up to a second), so 1 to 3 s.
    assert.ok(waits[0]!.ms >= 1000 && waits[0]!.ms <= 3000, `waited ${waits[0]!.ms} ms`);
  } finally {
    await fake.close();
  }
});

Deno.test("OktaClient gives up after a bounded number of 429s in a row", async () => {
  const fake = await startFakeOkta({ token: TOKEN, users: makeUsers(2) });
  try {
    for (let i = 0; i < 5; i++) fake.faults.push({ status: 429, resetInSeconds: 1 });
    const { client } = recordingClient(fake.url, { max429: 3 });
    await assert.rejects(
      collect(client, "/api/v1/users"),
      (error: unknown) =>
        error instanceof OktaApiError && error.status === 429 &&
        error.message ===
          "Okta kept answering 429 Too Many Requests to GET /api/v1/users after 3 waits",
    );
    assert.equal(fake.requests.length, 4);
  } finally {
    await fake.close();
  }
});

Deno.test("OktaClient holds the next request until the reset when no requests remain", async () => {
  const fake = await startFakeOkta({
    token: TOKEN,
    users: makeUsers(4),
    pageSize: 2,
    exhaustOn: { reply: 1, resetInSeconds: 1 },
  });
  try {
    const events: string[] = [];
    const { client, waits } = recordingClient(fake.url, {
      sleep: (ms) => {
        events.push(`sleep after ${fake.requests.length} requests`);
        return Promise.resolve(void ms);
      },
    });
    assert.equal((await collect(client, "/api/v1/users?limit=200")).length, 4);
    assert.deepEqual(events, ["sleep after 1 requests"]);
    assert.equal(waits[0]!.reason, "rate-limit");
    assert.ok(waits[0]!.ms > 0 && waits[0]!.ms <= 3000, `waited ${waits[0]!.ms} ms`);
  } finally {
    await fake.close();
  }
});

Deno.test("OktaClient retries a 500 with backoff and then succeeds", async () => {
  const fake = await startFakeOkta({ token: TOKEN, users: makeUsers(3) });
  try {
    fake.faults.push({ status: 500 }, { status: 503 });
    const { client, waits } = recordingClient(fake.url);
    assert.equal((await collect(client, "/api/v1/users")).length, 3);
    assert.deepEqual(waits.map((w) => [w.reason, w.ms]), [["retry", 1000], ["retry", 2000]]);
    assert.equal(fake.requests.length, 3);
  } finally {
    await fake.close();
  }
});

Deno.test("OktaClient stops after 3 retries of a 5xx with Okta's status in the message", async () => {
  const fake = await startFakeOkta({ token: TOKEN, users: makeUsers(3) });
  try {
    for (let i = 0; i < 4; i++) fake.faults.push({ status: 500 });
    const { client } = recordingClient(fake.url);
    await assert.rejects(
      collect(client, "/api/v1/users"),
      (error: unknown) =>
        error instanceof OktaApiError && error.status === 500 &&
        error.message ===
          "Okta answered GET /api/v1/users with 500 Internal Server Error: Internal Server Error after 3 retries",
    );
    assert.equal(fake.requests.length, 4);
  } finally {
    await fake.close();
  }
});

Deno.test("OktaClient stops on 401 naming OKTA_API_TOKEN, without its value", async () => {
  const fake = await startFakeOkta({ token: "the-right-token", users: makeUsers(3) });
  try {
    const { client } = recordingClient(fake.url);
    await assert.rejects(
      collect(client, "/api/v1/users"),
      (error: unknown) =>
        error instanceof OktaAuthError && error.status === 401 &&
        error.message ===
          "Okta refused OKTA_API_TOKEN for GET /api/v1/users with 401 Unauthorized: Invalid token provided",
    );
    assert.equal(fake.requests.length, 1);
  } finally {
    await fake.close();
  }
});

Deno.test("OktaClient stops on 403 without retrying, saying the token lacks a permission", async () => {
  const fake = await startFakeOkta({ token: TOKEN, users: makeUsers(3) });
  try {
    fake.faults.push({ status: 403 });
    const { client } = recordingClient(fake.url);
    await assert.rejects(
      collect(client, "/api/v1/users"),
      (error: unknown) =>
        error instanceof OktaAuthError && error.status === 403 &&
        error.message ===
          "Okta refused OKTA_API_TOKEN for GET /api/v1/users with 403 Forbidden: You do not have " +
            "permission to perform the requested action (the token's admin lacks the permission for this)",
    );
    assert.equal(fake.requests.length, 1);
  } finally {
    await fake.close();
  }
});

Deno.test("OktaClient does not retry a POST after a 5xx (it may have been applied)", async () => {
  let calls = 0;
  const { client } = recordingClient("https://acme.okta.com", {
    fetch: () => {
      calls++;
      return Promise.resolve(new Response("{}", { status: 502, statusText: "Bad Gateway" }));
    },
  });
  await assert.rejects(client.request("POST", "/api/v1/inlineHooks", {}), /502 Bad Gateway/);
  assert.equal(calls, 1);
});

Deno.test("OktaClient refuses to follow a next link to another host (the token stays home)", async () => {
  const seen: string[] = [];
  const { client } = recordingClient("https://acme.okta.com", {
    fetch: (input) => {
      seen.push(String(input));
      return Promise.resolve(
        new Response("[]", {
          headers: { link: '<https://evil.example/api/v1/users>; rel="next"' },
        }),
      );
    },
  });
  await assert.rejects(
    collect(client, "/api/v1/users"),
    /Refusing to send the API token to https:\/\/evil.example/,
  );
  assert.deepEqual(seen, ["https://acme.okta.com/api/v1/users"]);
});
