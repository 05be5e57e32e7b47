/**
 * OAuth 2.0 bearer tokens end to end: the real service over HTTPS, a real authorization server
 * (oauth2-mock-server) on loopback signing real tokens, and every way a token can be wrong.
 */

import assert from "node:assert/strict";
import { createPublicKey } from "node:crypto";
import { SignJWT } from "jose";
import { OAuth2Server } from "oauth2-mock-server";
import {
  AUDIENCE,
  b64url,
  CLIENT_ID,
  type IssuerOptions,
  SCOPE,
  startIssuer,
  type TestIssuer,
} from "./_oauth_server.ts";
import {
  assertOktaError,
  assertUnchanged,
  makeHookRequest,
  startTestServer,
  TEST_SECRET,
  type TestServer,
  withDeadline,
} from "./_test_utils.ts";
import { KEYS_MAX_AGE_MS, UNKNOWN_KID_COOLDOWN_MS } from "../lib/hook/oauth.ts";

/** A clock the test moves: the key cache's cooldowns and ages are read from it. */
class Clock {
  offsetMs = 0;
  readonly now = (): number => performance.now() + this.offsetMs;
}

interface Setup {
  readonly issuer: TestIssuer;
  readonly server: TestServer;
  readonly clock: Clock;
  /** POSTs an import request with `authorization`. */
  post(authorization?: string): Promise<Response>;
}

async function withOAuth(
  test: (setup: Setup) => Promise<void>,
  options: { readonly env?: Record<string, string>; readonly issuer?: IssuerOptions } = {},
): Promise<void> {
  const issuer = await startIssuer(options.issuer);
  const clock = new Clock();
  try {
    const server = await startTestServer({
      env: {
        HOOK_OAUTH_ISSUER: issuer.url,
        HOOK_OAUTH_AUDIENCE: AUDIENCE,
        HOOK_OAUTH_SCOPES: SCOPE,
        HOOK_OAUTH_CLIENT_IDS: CLIENT_ID,
        ...options.env,
      },
      issuerKeys: { nowMs: clock.now },
    });
    let n = 0;
    try {
      await test({
        issuer,
        server,
        clock,
        post: (authorization) =>
          server.post(
            makeHookRequest({ login: `user${n++}@example.com` }),
            authorization === undefined ? {} : { authorization },
          ),
      });
    } finally {
      await server.close();
    }
  } finally {
    await issuer.close();
  }
}

const NOW = () => Math.floor(Date.now() / 1000);

async function assertTokenRefused(response: Response, summary: string | RegExp): Promise<void> {
  const causes = await assertOktaError(response, 401, summary);
  assert.equal((causes as { location?: string }[])[0]?.location, "Authorization");
}

Deno.test("OAuth: a valid token from the issuer passes, and the keys were fetched once at start", async () => {
  await withOAuth(async ({ issuer, post }) => {
    await assertUnchanged(await post(`Bearer ${await issuer.token()}`));
    await assertUnchanged(await post(`bearer ${await issuer.token()}`));
    assert.equal(issuer.fetched.get("/jwks"), 1);
    // The mock serves only OpenID metadata: the OAuth path was tried first.
    assert.equal(issuer.fetched.get("/.well-known/oauth-authorization-server"), 1);
    assert.equal(issuer.fetched.get("/.well-known/openid-configuration"), 1);
  });
});

Deno.test("OAuth: metadata at /.well-known/oauth-authorization-server is used first", async () => {
  await withOAuth(async ({ issuer, post }) => {
    await assertUnchanged(await post(`Bearer ${await issuer.token()}`));
    assert.equal(issuer.fetched.get("/.well-known/oauth-authorization-server"), 1);
    assert.equal(issuer.fetched.get("/.well-known/openid-configuration"), undefined);
  }, { issuer: { oauthMetadata: true } });
});

Deno.test("OAuth: a token from the client-credentials grant, as Okta gets one, passes", async () => {
  await withOAuth(async ({ issuer, post }) => {
    issuer.server.service.once(
      "beforeTokenSigning",
      (token: { payload: Record<string, unknown> }, req: { body: Record<string, string> }) => {
        token.payload.cid = req.body.client_id;
      },
    );
    const reply = await fetch(`${issuer.url}/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: CLIENT_ID,
        client_secret: "the-client-secret",
        scope: SCOPE,
        aud: AUDIENCE,
      }),
    });
    assert.equal(reply.status, 200);
    const { access_token } = await reply.json();
    await assertUnchanged(await post(`Bearer ${access_token}`));
  });
});

Deno.test("OAuth: each failed claim check is a 401 naming the check, never the token", async () => {
  await withOAuth(async ({ issuer, server, post }) => {
    const cases: [Record<string, unknown>, string][] = [
      [{ exp: NOW() - 120 }, "The bearer token has expired"],
      [{ nbf: NOW() + 300 }, "The bearer token is not valid yet (nbf)"],
      [{ iat: NOW() + 300 }, "The bearer token is issued in the future (iat)"],
      [{ exp: undefined }, "The bearer token has no expiry (exp)"],
      [{ aud: "api://default" }, "The bearer token's audience (aud) is not HOOK_OAUTH_AUDIENCE"],
      [{ iss: "http://127.0.0.1:1" }, "The bearer token's issuer (iss) is not HOOK_OAUTH_ISSUER"],
      [{ iss: `${issuer.url}/` }, "The bearer token's issuer (iss) is not HOOK_OAUTH_ISSUER"],
      [{ scp: ["okta.users.read"] }, "The bearer token lacks the scope HOOK_OAUTH_SCOPES names"],
      [{ scp: undefined }, "The bearer token lacks the scope HOOK_OAUTH_SCOPES names"],
      [
        { cid: "0oaSomeOtherClient" },
        "The bearer token's client id (cid) is not one of HOOK_OAUTH_CLIENT_IDS",
      ],
    ];
    const tokens: string[] = [];
    for (const [claims, summary] of cases) {
      const token = await issuer.token(claims);
      tokens.push(token);
      await assertTokenRefused(await post(`Bearer ${token}`), summary);
    }
    // The scope as RFC 9068 writes it, and the client id under client_id, pass too.
    const rfc = await issuer.token({
      scp: undefined,
      scope: `openid ${SCOPE}`,
      cid: undefined,
      client_id: CLIENT_ID,
    });
    await assertUnchanged(await post(`Bearer ${rfc}`));

    await server.service.flushRefusals();
    const rows = server.db().prepare("SELECT status, reason, count FROM rejections").all();
    assert.equal(rows.reduce((sum, r) => sum + Number(r.count), 0), cases.length);
    assert.ok(rows.every((r) => r.status === 401));
    const stored = JSON.stringify(rows);
    for (const token of tokens) assert.ok(!stored.includes(token.split(".")[1]!));
    assert.equal(server.db().prepare("SELECT count(*) AS n FROM decisions").get()?.n, 1);
  });
});

Deno.test("OAuth: a missing, non-bearer or malformed credential is a 401", async () => {
  await withOAuth(async ({ post }) => {
    await assertTokenRefused(await post(""), "Missing bearer token in the Authorization header");
    await assertTokenRefused(
      await post(TEST_SECRET),
      "The Authorization header is not a bearer token",
    );
    await assertTokenRefused(
      await post("Basic dXNlcjpwYXNz"),
      "The Authorization header is not a bearer token",
    );
    await assertTokenRefused(
      await post("Bearer not.a.jwt"),
      "The bearer token is not a well-formed signed JWT",
    );
    await assertTokenRefused(
      await post(`Bearer ${"a".repeat(9_000)}`),
      "The Authorization header is not a bearer token",
    );
  });
});

Deno.test("OAuth: alg none and HS256 keyed with the issuer's public key are refused", async () => {
  await withOAuth(async ({ issuer, post }) => {
    const claims = {
      iss: issuer.url,
      aud: AUDIENCE,
      scp: [SCOPE],
      cid: CLIENT_ID,
      iat: NOW(),
      exp: NOW() + 600,
    };
    const none = `${b64url({ alg: "none", typ: "JWT", kid: issuer.kid })}.${b64url(claims)}.`;
    await assertTokenRefused(
      await post(`Bearer ${none}`),
      "The bearer token's algorithm is not allowed (asymmetric signatures only)",
    );
    const jwks = await (await fetch(`${issuer.url}/jwks`)).json();
    const pem = createPublicKey({ key: jwks.keys[0], format: "jwk" })
      .export({ type: "spki", format: "pem" });
    const hs256 = await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256", typ: "JWT", kid: issuer.kid })
      .sign(new TextEncoder().encode(String(pem)));
    await assertTokenRefused(
      await post(`Bearer ${hs256}`),
      "The bearer token's algorithm is not allowed (asymmetric signatures only)",
    );
  });
});

Deno.test("OAuth: a token signed by another server's key is refused, whatever its kid", async () => {
  const other = new OAuth2Server();
  try {
    await withOAuth(async ({ issuer, post }) => {
      // Same kid as the real key: found, but the signature does not verify.
      await other.issuer.keys.generate("RS256", { kid: issuer.kid });
      other.issuer.url = issuer.url;
      const claims = { aud: AUDIENCE, scp: [SCOPE], cid: CLIENT_ID };
      const forged = await other.issuer.buildToken({
        scopesOrTransform: (_h: unknown, p: Record<string, unknown>) => Object.assign(p, claims),
      });
      await assertTokenRefused(
        await post(`Bearer ${forged}`),
        "The bearer token's signature does not verify",
      );
      // A kid of its own: not one of the issuer's keys.
      const own = await other.issuer.keys.generate("RS256", { kid: "attacker-key" });
      const stranger = await other.issuer.buildToken({
        kid: String(own.kid),
        scopesOrTransform: (_h: unknown, p: Record<string, unknown>) => Object.assign(p, claims),
      });
      await assertTokenRefused(
        await post(`Bearer ${stranger}`),
        "The bearer token's key (kid) is not one of the issuer's keys",
      );
    });
  } finally {
    await other.stop().catch(() => {});
  }
});

Deno.test("OAuth: a new signing key works without a restart; a flood of unknown kids fetches at most once", async () => {
  await withOAuth(async ({ issuer, clock, post }) => {
    await assertUnchanged(await post(`Bearer ${await issuer.token()}`));
    assert.equal(issuer.fetched.get("/jwks"), 1);
    // The issuer rotates: a new key signs from now on.
    const next = await issuer.server.issuer.keys.generate("RS256");
    clock.offsetMs += UNKNOWN_KID_COOLDOWN_MS;
    await assertUnchanged(await post(`Bearer ${await issuer.token({}, String(next.kid))}`));
    assert.equal(issuer.fetched.get("/jwks"), 2);
    // Old-key tokens still verify: both keys are published.
    await assertUnchanged(await post(`Bearer ${await issuer.token({}, issuer.kid)}`));

    // Made-up kids, all at once and then in a row: at most one more fetch per cooldown.
    clock.offsetMs += UNKNOWN_KID_COOLDOWN_MS;
    const stranger = new OAuth2Server();
    stranger.issuer.url = issuer.url;
    const forged: string[] = [];
    for (let i = 0; i < 40; i++) {
      const key = await stranger.issuer.keys.generate("ES256", { kid: `made-up-${i}` });
      forged.push(
        await stranger.issuer.buildToken({
          kid: String(key.kid),
          scopesOrTransform: (_h: unknown, p: Record<string, unknown>) =>
            Object.assign(p, { aud: AUDIENCE, scp: [SCOPE], cid: CLIENT_ID }),
        }),
      );
    }
    const replies = await Promise.all(forged.slice(0, 20).map((t) => post(`Bearer ${t}`)));
    for (const t of forged.slice(20)) replies.push(await post(`Bearer ${t}`));
    for (const reply of replies) {
      await assertTokenRefused(
        reply,
        "The bearer token's key (kid) is not one of the issuer's keys",
      );
    }
    assert.equal(issuer.fetched.get("/jwks"), 3);
  });
});

Deno.test("OAuth: with the issuer down or hanging, cached keys keep working and nothing waits long", async () => {
  await withOAuth(async ({ issuer, clock, post }) => {
    const token = await issuer.token();
    await assertUnchanged(await post(`Bearer ${token}`));
    issuer.mode = "down";
    clock.offsetMs += KEYS_MAX_AGE_MS; // old keys: a refresh is tried, and fails
    await assertUnchanged(await post(`Bearer ${await issuer.token()}`));
    await assertUnchanged(await post(`Bearer ${await issuer.token()}`));
    issuer.mode = "hang";
    clock.offsetMs += KEYS_MAX_AGE_MS + UNKNOWN_KID_COOLDOWN_MS;
    // An unknown kid asks the hanging issuer: answered 401 once the fetch times out.
    const stranger = new OAuth2Server();
    stranger.issuer.url = issuer.url;
    await stranger.issuer.keys.generate("RS256", { kid: "unknown" });
    const forged = await stranger.issuer.buildToken({
      scopesOrTransform: (_h: unknown, p: Record<string, unknown>) =>
        Object.assign(p, { aud: AUDIENCE, scp: [SCOPE], cid: CLIENT_ID }),
    });
    const started = performance.now();
    await assertTokenRefused(
      await withDeadline(post(`Bearer ${forged}`), 2500, "the answer with the issuer hanging"),
      "The bearer token's key (kid) is not one of the issuer's keys",
    );
    assert.ok(performance.now() - started < 2500);
    await assertUnchanged(await post(`Bearer ${await issuer.token()}`));
  });
});

Deno.test("OAuth: with no keys yet and the issuer down, a token gets a 503 until the issuer is back", async () => {
  await withOAuth(async ({ issuer, clock, post }) => {
    const token = await issuer.token();
    const refused = await post(`Bearer ${token}`);
    assert.equal(refused.headers.get("retry-after"), "1");
    await assertOktaError(refused, 503, /issuer's keys cannot be fetched/);
    // Garbage is still refused as garbage, without asking the issuer.
    await assertTokenRefused(
      await post("Basic x"),
      "The Authorization header is not a bearer token",
    );
    issuer.mode = "up";
    clock.offsetMs += 1000;
    await assertUnchanged(await post(`Bearer ${token}`));
  }, { issuer: { mode: "down" } });
});

Deno.test("OAuth: while switching over, the header secret and a token both pass", async () => {
  await withOAuth(async ({ issuer, post }) => {
    await assertUnchanged(await post(TEST_SECRET));
    await assertUnchanged(await post(`Bearer ${await issuer.token()}`));
    await assertTokenRefused(
      await post(`Bearer ${await issuer.token({ aud: "api://other" })}`),
      "The bearer token's audience (aud) is not HOOK_OAUTH_AUDIENCE",
    );
    await assertOktaError(
      await post("wrong-secret-0123456789"),
      403,
      "Wrong Authorization header value",
    );
  }, { env: { HOOK_OAUTH_ACCEPT_SECRET: "yes", HOOK_AUTH_SECRET: TEST_SECRET } });
});
