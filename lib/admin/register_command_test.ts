import assert from "node:assert/strict";
import { inlineHookBody } from "../okta/register_hook.ts";
import { type FakeHook, type FakeOkta, startFakeOkta } from "../../tests/_fake_okta.ts";
import { runTask } from "../../tests/_run_task.ts";

const TOKEN = "00regToken-0123456789abcdef";
const SECRET = "hook-secret-0123456789abcdef";
const NEXT_SECRET = "hook-secret-next-0123456789";
const URL_ = "https://hooks.example.com/hooks/import";

async function withFake(
  hooks: FakeHook[],
  test: (fake: FakeOkta, env: Record<string, string>) => Promise<void>,
): Promise<void> {
  const fake = await startFakeOkta({ token: TOKEN, hooks });
  try {
    await test(fake, { OKTA_ORG_URL: fake.url, OKTA_API_TOKEN: TOKEN, HOOK_AUTH_SECRET: SECRET });
  } finally {
    await fake.close();
  }
}

function existingHook(id: string, name: string, status = "ACTIVE"): FakeHook {
  const body = inlineHookBody({
    name,
    uri: "https://old.example.com/hooks/import",
    auth: { type: "HEADER", header: "Authorization", secret: "old-secret-0123456789abcdef" },
  });
  return { id, status, body };
}

function assertNoSecret(output: string): void {
  for (const secret of [SECRET, NEXT_SECRET, TOKEN]) assert.ok(!output.includes(secret));
}

Deno.test("deno task register creates the import hook with the header secret and says what is left to do", async () => {
  await withFake([], async (fake, env) => {
    const result = await runTask("register", ["--url", URL_], env);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout,
      `Created inline hook "Import login de-duplication" in ${fake.url}: id cal1, ACTIVE; ` +
        `Okta calls ${URL_} with the secret in the Authorization header\n` +
        "Next: in the Okta Admin Console open the app that imports users, then Provisioning -> " +
        'To Okta -> Inline Hooks, select "Import login de-duplication" and save\n',
    );
    assertNoSecret(result.stdout + result.stderr);
    assert.deepEqual(
      fake.requests.map((r) => `${r.method} ${r.url}`),
      ["GET /api/v1/inlineHooks?type=com.okta.import.transform", "POST /api/v1/inlineHooks"],
    );
    assert.deepEqual(fake.requests[1]!.body, {
      name: "Import login de-duplication",
      type: "com.okta.import.transform",
      version: "1.0.0",
      channel: {
        type: "HTTP",
        version: "1.0.0",
        config: {
          uri: URL_,
          method: "POST",
          headers: [],
          authScheme: { type: "HEADER", key: "Authorization", value: SECRET },
        },
      },
    });
  });
});

Deno.test("deno task register updates the hook with the same name, sending the first of several secrets", async () => {
  const hooks = [existingHook("calOther", "Another hook"), existingHook("calMine", "Dedup")];
  await withFake(hooks, async (fake, env) => {
    const result = await runTask("register", ["--url", URL_, "--name", "Dedup"], {
      ...env,
      HOOK_AUTH_SECRET: `${NEXT_SECRET}, ${SECRET}`,
      HOOK_AUTH_HEADER: "X-Hook-Secret",
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Updated inline hook "Dedup" in .*: id calMine, ACTIVE; /);
    assert.match(
      result.stdout,
      /with the secret in the X-Hook-Secret header\nNext, if not done yet:/,
    );
    assertNoSecret(result.stdout + result.stderr);
    assert.equal(fake.requests[1]!.method, "PUT");
    assert.equal(fake.requests[1]!.url, "/api/v1/inlineHooks/calMine");
    assert.equal(fake.hooks.length, 2);
    const config = fake.hooks[1]!.body.channel.config;
    assert.equal(config.uri, URL_);
    assert.deepEqual(config.authScheme, {
      type: "HEADER",
      key: "X-Hook-Secret",
      value: NEXT_SECRET,
    });
    assert.equal(fake.hooks[0]!.body.channel.config.uri, "https://old.example.com/hooks/import");
  });
});

Deno.test("deno task register activates a same-named hook that was inactive", async () => {
  await withFake(
    [existingHook("calIdle", "Import login de-duplication", "INACTIVE")],
    async (fake, env) => {
      const result = await runTask("register", ["--url", URL_], env);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /: id calIdle, ACTIVE, activated; /);
      assert.equal(fake.requests.at(-1)!.url, "/api/v1/inlineHooks/calIdle/lifecycle/activate");
      assert.equal(fake.hooks[0]!.status, "ACTIVE");
    },
  );
});

Deno.test("deno task register refuses to guess when several hooks share the name", async () => {
  const hooks = [existingHook("calA", "Dup"), existingHook("calB", "Dup")];
  await withFake(hooks, async (fake, env) => {
    const result = await runTask("register", ["--url", URL_, "--name", "Dup"], env);
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      `Cannot register the hook in ${fake.url}: 2 inline hooks are named "Dup" (calA, calB): ` +
        "delete the extra ones in Okta or pass --name\n",
    );
    assert.equal(fake.requests.length, 1);
  });
});

Deno.test("deno task register rejects a missing or non-https --url with one line and exit code 2", async () => {
  const env = {
    OKTA_ORG_URL: "https://acme.okta.com",
    OKTA_API_TOKEN: TOKEN,
    HOOK_AUTH_SECRET: SECRET,
  };
  const missing = await runTask("register", [], env);
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr, "Missing --url: the service's public URL (see --help)\n");
  const http = await runTask("register", ["--url", "http://hooks.example.com/hooks/import"], env);
  assert.equal(http.code, 2);
  assert.equal(
    http.stderr,
    'Cannot use --url "http://hooks.example.com/hooks/import": Okta calls hooks only over https:// (see --help)\n',
  );
  const unknown = await runTask("register", ["--url", URL_, "--secret", "x"], env);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stderr.trim().split("\n").length, 1);
});

Deno.test("deno task register needs HOOK_AUTH_SECRET and names it, exit code 1", async () => {
  const base = { OKTA_ORG_URL: "https://acme.okta.com", OKTA_API_TOKEN: TOKEN };
  const missing = await runTask("register", ["--url", URL_], base);
  assert.equal(missing.code, 1);
  assert.equal(
    missing.stderr,
    "Cannot read HOOK_AUTH_SECRET: it must be set to the secret the service accepts\n",
  );
  const short = await runTask("register", ["--url", URL_], { ...base, HOOK_AUTH_SECRET: "short1" });
  assert.equal(short.code, 1);
  assert.match(short.stderr, /^Cannot read HOOK_AUTH_SECRET: value 1 is shorter than 16/);
  assert.ok(!short.stderr.includes("short1"));
});

Deno.test("deno task register stops with exit 1 naming OKTA_API_TOKEN when Okta refuses it", async () => {
  await withFake([], async (fake, env) => {
    const result = await runTask("register", ["--url", URL_], {
      ...env,
      OKTA_API_TOKEN: "00nope-123",
    });
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      `Cannot register the hook in ${fake.url}: Okta refused OKTA_API_TOKEN for GET ` +
        "/api/v1/inlineHooks with 401 Unauthorized: Invalid token provided\n",
    );
    assertNoSecret(result.stdout + result.stderr);
    assert.equal(fake.hooks.length, 0);
  });
});

Deno.test("deno task register --help prints the usage and exits 0", async () => {
  const result = await runTask("register", ["--help"], {});
  assert.equal(result.code, 0);
  assert.match(result.stdout, /^Usage: deno task register --url https:\/\/PUBLIC-HOST/);
  assert.match(result.stdout, /HOOK_AUTH_SECRET/);
});

const OAUTH_ENV = {
  HOOK_OAUTH_ISSUER: "https://acme.okta.com/oauth2/default",
  HOOK_OAUTH_SCOPES: "okta.hooks.import",
  HOOK_OAUTH_CLIENT_IDS: "0oaHookClient",
  HOOK_OAUTH_CLIENT_SECRET: "client-secret-0123456789",
};

Deno.test("deno task register moves the hook to the OAUTH channel with the service's OAuth settings", async () => {
  await withFake([existingHook("calMine", "Import login de-duplication")], async (fake, env) => {
    const result = await runTask("register", ["--url", URL_], { ...env, ...OAUTH_ENV });
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /^Updated inline hook .* Okta calls \S+ with an OAuth 2\.0 access token from https:\/\/acme\.okta\.com\/oauth2\/default\/v1\/token \(client 0oaHookClient, scope okta\.hooks\.import, client_secret_post\)\n/,
    );
    assert.ok(!(result.stdout + result.stderr).includes(OAUTH_ENV.HOOK_OAUTH_CLIENT_SECRET));
    assert.deepEqual(fake.hooks[0]!.body.channel, {
      type: "OAUTH",
      version: "1.0.0",
      config: {
        uri: URL_,
        method: "POST",
        headers: [],
        authScheme: null,
        authType: "client_secret_post",
        clientId: "0oaHookClient",
        tokenUrl: "https://acme.okta.com/oauth2/default/v1/token",
        scope: "okta.hooks.import",
        clientSecret: OAUTH_ENV.HOOK_OAUTH_CLIENT_SECRET,
      },
    });
    // And back to the header secret, on request.
    const back = await runTask("register", ["--url", URL_, "--auth", "header"], {
      ...env,
      ...OAUTH_ENV,
    });
    assert.equal(back.code, 0, back.stderr);
    assert.equal(fake.hooks[0]!.body.channel.type, "HTTP");
  });
});

Deno.test("deno task register --hook-key-id registers private_key_jwt with the given client and token URL", async () => {
  await withFake([], async (fake, env) => {
    const result = await runTask("register", [
      "--url",
      URL_,
      "--auth",
      "oauth",
      "--client-id",
      "0oaOther",
      "--token-url",
      "https://auth.example.com/oauth2/aus1/v1/token",
      "--scope",
      "hook.call",
      "--hook-key-id",
      "HKYabc123",
    ], env);
    assert.equal(result.code, 0, result.stderr);
    const config = fake.hooks[0]!.body.channel.config;
    assert.equal(config.authType, "private_key_jwt");
    assert.equal(config.hookKeyId, "HKYabc123");
    assert.equal(config.clientId, "0oaOther");
    assert.equal(config.scope, "hook.call");
    assert.equal(config.clientSecret, undefined);
  });
});

Deno.test("deno task register refuses OAuth settings the service would then refuse", async () => {
  await withFake([], async (fake, env) => {
    const cases: [string[], Record<string, string>, string][] = [
      [
        [],
        { ...OAUTH_ENV, HOOK_OAUTH_CLIENT_SECRET: "" },
        "Cannot read HOOK_OAUTH_CLIENT_SECRET: client_secret_post needs the app's client secret (or give --hook-key-id for private_key_jwt)",
      ],
      [
        ["--client-id", "0oaOther"],
        OAUTH_ENV,
        "Cannot read HOOK_OAUTH_CLIENT_IDS: it does not list 0oaOther, so the service would refuse its tokens",
      ],
      [
        ["--scope", "openid"],
        OAUTH_ENV,
        "Cannot read HOOK_OAUTH_SCOPES: the service requires okta.hooks.import, which --scope leaves out",
      ],
      [
        ["--auth", "oauth"],
        {},
        "Cannot read HOOK_OAUTH_CLIENT_IDS: give --client-id or set it to the API Services app's client id",
      ],
      [
        ["--auth", "oauth", "--client-id", "c", "--token-url", "http://x.example/token"],
        {},
        'Cannot use --token-url "http://x.example/token": Okta calls hooks only over https://',
      ],
    ];
    for (const [args, extra, message] of cases) {
      const result = await runTask("register", ["--url", URL_, ...args], { ...env, ...extra });
      assert.equal(result.code, 1, message);
      assert.equal(result.stderr, `${message}\n`);
    }
    const usage = await runTask("register", ["--url", URL_, "--scope", "x"], env);
    assert.equal(usage.code, 2);
    assert.equal(usage.stderr, "Option --scope goes with --auth oauth (see --help)\n");
    assert.equal(fake.hooks.length, 0);
  });
});
