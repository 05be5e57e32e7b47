import assert from "node:assert/strict";
import { OktaClient, parseOktaEnv } from "./okta_api.ts";
import {
  checkHookName,
  checkHookUri,
  type HookRegistration,
  IMPORT_HOOK_TYPE,
  inlineHookBody,
  registerHook,
} from "./register_hook.ts";
import { type FakeHook, type FakeOkta, startFakeOkta } from "../../tests/_fake_okta.ts";

const TOKEN = "00hookToken-0123456789abcdef";
const SECRET = "hook-secret-0123456789abcdef";
const HOOK: HookRegistration = {
  name: "Import login de-duplication",
  uri: "https://hooks.example.com/hooks/import",
  auth: { type: "HEADER", header: "Authorization", secret: SECRET },
};

async function withOkta(
  hooks: FakeHook[],
  test: (okta: OktaClient, fake: FakeOkta) => Promise<void>,
) {
  const fake = await startFakeOkta({ token: TOKEN, hooks });
  try {
    const target = parseOktaEnv({ OKTA_ORG_URL: fake.url, OKTA_API_TOKEN: TOKEN });
    await test(new OktaClient(target, { sleep: () => Promise.resolve() }), fake);
  } finally {
    await fake.close();
  }
}

Deno.test("inlineHookBody() is an import hook on the HTTP channel with the secret in the header", () => {
  assert.deepEqual(inlineHookBody(HOOK), {
    name: HOOK.name,
    type: IMPORT_HOOK_TYPE,
    version: "1.0.0",
    channel: {
      type: "HTTP",
      version: "1.0.0",
      config: {
        uri: HOOK.uri,
        method: "POST",
        headers: [],
        authScheme: { type: "HEADER", key: "Authorization", value: SECRET },
      },
    },
  });
});

Deno.test("inlineHookBody() is an OAUTH channel with client_secret_post or private_key_jwt", () => {
  const oauth = {
    type: "OAUTH",
    clientId: "0oaHookClient",
    tokenUrl: "https://acme.okta.com/oauth2/default/v1/token",
    scope: "okta.hooks.import",
  } as const;
  const config = {
    uri: HOOK.uri,
    method: "POST",
    headers: [],
    authScheme: null,
    clientId: "0oaHookClient",
    tokenUrl: "https://acme.okta.com/oauth2/default/v1/token",
    scope: "okta.hooks.import",
  };
  const post = inlineHookBody({
    ...HOOK,
    auth: { ...oauth, authType: "client_secret_post", clientSecret: "client-secret-123" },
  });
  assert.deepEqual(post.channel, {
    type: "OAUTH",
    version: "1.0.0",
    config: { ...config, authType: "client_secret_post", clientSecret: "client-secret-123" },
  });
  const jwt = inlineHookBody({
    ...HOOK,
    auth: { ...oauth, authType: "private_key_jwt", hookKeyId: "HKY1" },
  });
  assert.deepEqual(jwt.channel, {
    type: "OAUTH",
    version: "1.0.0",
    config: { ...config, authType: "private_key_jwt", hookKeyId: "HKY1" },
  });
});

Deno.test("checkHookUri() and checkHookName() refuse what Okta would refuse", () => {
  assert.equal(checkHookUri(HOOK.uri), null);
  assert.equal(checkHookUri("http://hooks.example.com/x"), "Okta calls hooks only over https://");
  assert.equal(checkHookUri("https://u:p@hooks.example.com/x"), "it holds a user name or password");
  assert.equal(checkHookUri("https://a b"), "it holds whitespace");
  assert.equal(checkHookUri("nope"), "it is not a URL");
  assert.equal(checkHookName("  "), "it is empty");
  assert.equal(checkHookName("x".repeat(256)), "it is longer than 255 characters");
});

Deno.test("registerHook() creates the hook, then updates the same one when run again", async () => {
  await withOkta([], async (okta, fake) => {
    const created = await registerHook(okta, HOOK);
    assert.equal(created.action, "created");
    const again = await registerHook(okta, {
      ...HOOK,
      uri: "https://new.example.com/hooks/import",
    });
    assert.equal(again.action, "updated");
    assert.equal(again.id, created.id);
    assert.equal(fake.hooks.length, 1);
    assert.equal(fake.hooks[0]!.body.channel.config.uri, "https://new.example.com/hooks/import");
  });
});

Deno.test("registerHook() activates an inactive hook and refuses to guess between two of one name", async () => {
  const body = inlineHookBody(HOOK);
  await withOkta([{ id: "cal1", status: "INACTIVE", body }], async (okta) => {
    const hook = await registerHook(okta, HOOK);
    assert.deepEqual([hook.action, hook.activated, hook.status], ["updated", true, "ACTIVE"]);
  });
  await withOkta(
    [{ id: "cal1", status: "ACTIVE", body }, { id: "cal2", status: "ACTIVE", body }],
    async (okta) => {
      await assert.rejects(registerHook(okta, HOOK), /2 inline hooks are named .*cal1, cal2/);
    },
  );
});
