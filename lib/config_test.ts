import assert from "node:assert/strict";
import {
  CONFIG_VARIABLES,
  ConfigError,
  MIN_SECRET_LENGTH,
  parseConfig,
  type RawEnv,
  redactedUrl,
} from "./config.ts";

/** Asserts parseConfig(env) throws a ConfigError with exactly `message`. */
function assertConfigError(env: RawEnv, message: string): void {
  assert.throws(
    () => parseConfig(env),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
      assert.equal(error.name, "ConfigError");
      assert.equal(error.message, message);
      return true;
    },
  );
}

Deno.test("parseConfig() gives the documented defaults for an empty environment", () => {
  assert.deepEqual(parseConfig({}), {
    port: 8443,
    hostname: "0.0.0.0",
    hostnameIgnored: false,
    plainHttp: false,
    trustedProxies: [],
    metrics: null,
    authSecrets: null,
    authHeader: "Authorization",
    oauth: null,
    tls: null,
    dbPath: "data/import-hook.db",
    databaseUrl: null,
    ownerAttributes: ["employeeId", "externalId", "employeeNumber"],
    personAttribute: null,
    personMatch: "report",
    logLevel: "info",
    middleNameAttribute: "middleName",
    strategies: ["middle_name", "middle_initial", "numeric_suffix"],
    groupCommitMax: 256,
    groupCommitWindowMs: 0,
    connections: {
      max: 256,
      handshakeTimeoutMs: 2000,
      requestTimeoutMs: 3000,
      bodyTimeoutMs: 2000,
      idleTimeoutMs: 5000,
      drainTimeoutMs: 10_000,
    },
  });
});

Deno.test("parseConfig() treats blank variables as unset", () => {
  const blank: RawEnv = {};
  for (const name of CONFIG_VARIABLES) blank[name] = "  ";
  assert.deepEqual(parseConfig(blank), parseConfig({}));
});

Deno.test("parseConfig() reads every variable, trimmed", () => {
  assert.deepEqual(
    parseConfig({
      PORT: " 9443 ",
      BIND_ADDRESS: "127.0.0.1",
      HOOK_AUTH_SECRET: "0123456789abcdef",
      HOOK_AUTH_HEADER: "X-Okta-Secret",
      TLS_CERT_FILE: "/etc/tls/cert.pem",
      TLS_KEY_FILE: "/etc/tls/key.pem",
      DB_PATH: "/var/lib/hook/hook.db",
      OWNER_ATTRIBUTE: "employeeId",
      MIDDLE_NAME_ATTRIBUTE: "custom.middle_name-2",
      RESOLUTION_STRATEGIES: " numeric_suffix , middle_name ",
      GROUP_COMMIT_MAX: "10000",
      GROUP_COMMIT_WINDOW_MS: "100",
      MAX_CONNECTIONS: "500",
      HANDSHAKE_TIMEOUT_MS: "1500",
      REQUEST_TIMEOUT_MS: "1000",
      BODY_TIMEOUT_MS: "2500",
      IDLE_TIMEOUT_MS: "30000",
      DRAIN_TIMEOUT_MS: "0",
      PERSON_ATTRIBUTE: "employeeNumber",
      PERSON_MATCH: " ACT ",
      LOG_LEVEL: "WARN",
    }),
    {
      port: 9443,
      hostname: "127.0.0.1",
      hostnameIgnored: false,
      plainHttp: false,
      trustedProxies: [],
      metrics: null,
      authSecrets: ["0123456789abcdef"],
      authHeader: "X-Okta-Secret",
      oauth: null,
      tls: { certFile: "/etc/tls/cert.pem", keyFile: "/etc/tls/key.pem" },
      dbPath: "/var/lib/hook/hook.db",
      databaseUrl: null,
      ownerAttributes: ["employeeId"],
      personAttribute: "employeeNumber",
      personMatch: "act",
      logLevel: "warn",
      middleNameAttribute: "custom.middle_name-2",
      strategies: ["numeric_suffix", "middle_name"],
      groupCommitMax: 10000,
      groupCommitWindowMs: 100,
      connections: {
        max: 500,
        handshakeTimeoutMs: 1500,
        requestTimeoutMs: 1000,
        bodyTimeoutMs: 2500,
        idleTimeoutMs: 30_000,
        drainTimeoutMs: 0,
      },
    },
  );
});

Deno.test("parseConfig() accepts the ends of every numeric range", () => {
  assert.equal(parseConfig({ PORT: "1" }).port, 1);
  assert.equal(parseConfig({ PORT: "65535" }).port, 65535);
  assert.equal(parseConfig({ GROUP_COMMIT_MAX: "1" }).groupCommitMax, 1);
  assert.equal(parseConfig({ GROUP_COMMIT_WINDOW_MS: "0" }).groupCommitWindowMs, 0);
});

Deno.test("parseConfig() refuses a PORT that is not a port number, naming PORT", () => {
  assertConfigError({ PORT: "https" }, 'Cannot read PORT: "https" is not a number');
  assertConfigError({ PORT: "-1" }, 'Cannot read PORT: "-1" is not between 0 and 65535');
  assertConfigError({ PORT: "80.5" }, 'Cannot read PORT: "80.5" is not a number');
  assertConfigError({ PORT: "65536" }, 'Cannot read PORT: "65536" is not between 0 and 65535');
});

Deno.test("parseConfig() takes PORT=0 as a port the OS picks", () => {
  assert.equal(parseConfig({ PORT: "0" }).port, 0);
});

Deno.test("parseConfig() refuses group commit limits out of range, naming the variable", () => {
  assertConfigError(
    { GROUP_COMMIT_MAX: "0" },
    'Cannot read GROUP_COMMIT_MAX: "0" is not between 1 and 10000',
  );
  assertConfigError(
    { GROUP_COMMIT_MAX: "10001" },
    'Cannot read GROUP_COMMIT_MAX: "10001" is not between 1 and 10000',
  );
  assertConfigError(
    { GROUP_COMMIT_MAX: "1e3" },
    'Cannot read GROUP_COMMIT_MAX: "1e3" is not a number',
  );
  assertConfigError(
    { GROUP_COMMIT_WINDOW_MS: "101" },
    'Cannot read GROUP_COMMIT_WINDOW_MS: "101" is not between 0 and 100',
  );
  assertConfigError(
    { GROUP_COMMIT_WINDOW_MS: "5ms" },
    'Cannot read GROUP_COMMIT_WINDOW_MS: "5ms" is not a number',
  );
});

Deno.test("parseConfig() refuses a HOOK_AUTH_HEADER that is not a header name", () => {
  assertConfigError(
    { HOOK_AUTH_HEADER: "X Secret" },
    'Cannot read HOOK_AUTH_HEADER: "X Secret" is not a header name',
  );
  assertConfigError(
    { HOOK_AUTH_HEADER: "X-Secret:" },
    'Cannot read HOOK_AUTH_HEADER: "X-Secret:" is not a header name',
  );
});

Deno.test("parseConfig() refuses attribute names a profile cannot hold, naming the variable", () => {
  assertConfigError(
    { OWNER_ATTRIBUTE: "1stId" },
    'Cannot read OWNER_ATTRIBUTE: "1stId" is not an attribute',
  );
  assertConfigError(
    { OWNER_ATTRIBUTE: "employee id" },
    'Cannot read OWNER_ATTRIBUTE: "employee id" is not an attribute',
  );
  assertConfigError(
    { MIDDLE_NAME_ATTRIBUTE: "middle$name" },
    'Cannot read MIDDLE_NAME_ATTRIBUTE: "middle$name" is not an attribute',
  );
  const long = `a${"b".repeat(100)}`;
  assertConfigError(
    { MIDDLE_NAME_ATTRIBUTE: long },
    `Cannot read MIDDLE_NAME_ATTRIBUTE: "${long}" is not an attribute`,
  );
  assert.deepEqual(parseConfig({ OWNER_ATTRIBUTE: "a".repeat(100) }).ownerAttributes, [
    "a".repeat(100),
  ]);
});

Deno.test("parseConfig() reads OWNER_ATTRIBUTE as an ordered list, Okta's sample's externalId among the defaults", () => {
  assert.deepEqual(parseConfig({}).ownerAttributes, ["employeeId", "externalId", "employeeNumber"]);
  assert.deepEqual(parseConfig({ OWNER_ATTRIBUTE: " workerId , externalId " }).ownerAttributes, [
    "workerId",
    "externalId",
  ]);
  assertConfigError(
    { OWNER_ATTRIBUTE: "externalId,externalId" },
    'Cannot read OWNER_ATTRIBUTE: "externalId,externalId" names an attribute twice',
  );
});

Deno.test("parseConfig() refuses a PERSON_ATTRIBUTE a profile cannot hold and an unknown PERSON_MATCH", () => {
  assertConfigError(
    { PERSON_ATTRIBUTE: "employee number" },
    'Cannot read PERSON_ATTRIBUTE: "employee number" is not an attribute',
  );
  assertConfigError(
    { PERSON_MATCH: "maybe" },
    'Cannot read PERSON_MATCH: "maybe" is not off, report or act',
  );
});

Deno.test("parseConfig() binds BIND_ADDRESS and ignores HOSTNAME, which containers set to their name", () => {
  const container = parseConfig({ HOSTNAME: "3f2a9c1b7d4e" });
  assert.deepEqual([container.hostname, container.hostnameIgnored], ["0.0.0.0", true]);
  const both = parseConfig({ HOSTNAME: "pod-7", BIND_ADDRESS: "127.0.0.1" });
  assert.deepEqual([both.hostname, both.hostnameIgnored], ["127.0.0.1", false]);
});

Deno.test("parseConfig() refuses an unknown LOG_LEVEL, naming the levels", () => {
  assertConfigError(
    { LOG_LEVEL: "verbose" },
    'Cannot read LOG_LEVEL: "verbose" is not one of debug, info, warn, error',
  );
});

Deno.test("parseConfig() refuses unknown or repeated RESOLUTION_STRATEGIES", () => {
  assertConfigError(
    { RESOLUTION_STRATEGIES: "middle_name,random" },
    'Cannot read RESOLUTION_STRATEGIES: "random" is not one of middle_name, middle_initial, numeric_suffix',
  );
  assertConfigError(
    { RESOLUTION_STRATEGIES: "Middle_Name" },
    'Cannot read RESOLUTION_STRATEGIES: "Middle_Name" is not one of middle_name, middle_initial, numeric_suffix',
  );
  assertConfigError(
    { RESOLUTION_STRATEGIES: "numeric_suffix, numeric_suffix" },
    'Cannot read RESOLUTION_STRATEGIES: "numeric_suffix, numeric_suffix" names a strategy twice',
  );
});

Deno.test("parseConfig() keeps the RESOLUTION_STRATEGIES order and skips empty entries", () => {
  assert.deepEqual(parseConfig({ RESOLUTION_STRATEGIES: "middle_initial" }).strategies, [
    "middle_initial",
  ]);
  assert.deepEqual(
    parseConfig({ RESOLUTION_STRATEGIES: "numeric_suffix,,middle_initial,middle_name," })
      .strategies,
    ["numeric_suffix", "middle_initial", "middle_name"],
  );
});

Deno.test("parseConfig() needs TLS_CERT_FILE and TLS_KEY_FILE together", () => {
  assertConfigError(
    { TLS_CERT_FILE: "cert.pem" },
    "Cannot read TLS_KEY_FILE: it must be set when TLS_CERT_FILE is set",
  );
  assertConfigError(
    { TLS_KEY_FILE: "key.pem", TLS_CERT_FILE: " " },
    "Cannot read TLS_CERT_FILE: it must be set when TLS_KEY_FILE is set",
  );
});

Deno.test("parseConfig() accepts several comma-separated secrets for a rotation", () => {
  const old = "old-secret-0123456789";
  const next = "new-secret-9876543210";
  assert.deepEqual(parseConfig({ HOOK_AUTH_SECRET: ` ${old} , ${next} ,` }).authSecrets, [
    old,
    next,
  ]);
});

Deno.test("parseConfig() refuses a secret shorter than 16 characters, naming its position", () => {
  assert.equal(MIN_SECRET_LENGTH, 16);
  assert.deepEqual(parseConfig({ HOOK_AUTH_SECRET: "x".repeat(16) }).authSecrets, [
    "x".repeat(16),
  ]);
  assertConfigError(
    { HOOK_AUTH_SECRET: "x".repeat(15) },
    "Cannot read HOOK_AUTH_SECRET: value 1 is shorter than 16 characters",
  );
  assertConfigError(
    { HOOK_AUTH_SECRET: `${"x".repeat(20)},short` },
    "Cannot read HOOK_AUTH_SECRET: value 2 is shorter than 16 characters",
  );
});

Deno.test("parseConfig() refuses a secret holding a control character", () => {
  assertConfigError(
    { HOOK_AUTH_SECRET: "0123456789\tabcdef" },
    "Cannot read HOOK_AUTH_SECRET: value 1 holds a control character",
  );
  assertConfigError(
    { HOOK_AUTH_SECRET: "0123456789abcdef,0123456789\x7fabcdef" },
    "Cannot read HOOK_AUTH_SECRET: value 2 holds a control character",
  );
});

// A list of only commas must be refused here, naming the variable, not later at start-up.
Deno.test("parseConfig() refuses a HOOK_AUTH_SECRET that holds no secret", () => {
  assert.throws(
    () => parseConfig({ HOOK_AUTH_SECRET: " , ," }),
    (error: unknown) =>
      error instanceof ConfigError && error.message.startsWith("Cannot read HOOK_AUTH_SECRET: "),
  );
});

Deno.test("parseConfig() allows TLS=off only on loopback or with ALLOW_PLAIN_HTTP=yes", () => {
  assert.equal(parseConfig({ TLS: "off", BIND_ADDRESS: "127.0.0.1" }).plainHttp, true);
  assert.equal(parseConfig({ TLS: "OFF", BIND_ADDRESS: "::1" }).plainHttp, true);
  assert.equal(parseConfig({ TLS: "off", ALLOW_PLAIN_HTTP: "yes" }).plainHttp, true);
  assert.throws(
    () => parseConfig({ TLS: "off" }),
    /^ConfigError: Cannot read TLS: "off" serves plain HTTP/,
  );
  assertConfigError({ TLS: "maybe" }, 'Cannot read TLS: "maybe" is not on or off');
});

Deno.test("parseConfig() reads TRUSTED_PROXIES as addresses and CIDR blocks, naming a bad one", () => {
  assert.equal(parseConfig({ TRUSTED_PROXIES: "10.0.0.0/8, ::1" }).trustedProxies.length, 2);
  assertConfigError(
    { TRUSTED_PROXIES: "10.0.0.0/8,proxy.example" },
    'Cannot read TRUSTED_PROXIES: "proxy.example" is not an address or a CIDR block',
  );
});

Deno.test("parseConfig() puts metrics on loopback unless METRICS_HOSTNAME says otherwise", () => {
  assert.deepEqual(parseConfig({ METRICS_PORT: "9464" }).metrics, {
    hostname: "127.0.0.1",
    port: 9464,
  });
  assert.deepEqual(parseConfig({ METRICS_PORT: "9464", METRICS_HOSTNAME: "10.0.0.2" }).metrics, {
    hostname: "10.0.0.2",
    port: 9464,
  });
  assertConfigError({ METRICS_PORT: "x" }, 'Cannot read METRICS_PORT: "x" is not a number');
});

Deno.test("parseConfig() reads the OAuth settings: issuer, audience, scopes, client ids", () => {
  const config = parseConfig({
    HOOK_OAUTH_ISSUER: " https://acme.okta.com/oauth2/default ",
    HOOK_OAUTH_AUDIENCE: "api://default",
    HOOK_OAUTH_SCOPES: "okta.hooks.import, extra",
    HOOK_OAUTH_CLIENT_IDS: "0oaHookClient 0oaOther",
  });
  assert.deepEqual(config.oauth, {
    issuer: "https://acme.okta.com/oauth2/default",
    audience: "api://default",
    scopes: ["okta.hooks.import", "extra"],
    clientIds: ["0oaHookClient", "0oaOther"],
    acceptSecret: false,
  });
  const loopback = parseConfig({
    HOOK_OAUTH_ISSUER: "http://127.0.0.1:9000",
    HOOK_OAUTH_AUDIENCE: "api://test",
    HOOK_OAUTH_ACCEPT_SECRET: "yes",
    HOOK_AUTH_SECRET: "0123456789abcdef",
  });
  assert.equal(loopback.oauth?.acceptSecret, true);
  assert.deepEqual(loopback.authSecrets, ["0123456789abcdef"]);
});

Deno.test("parseConfig() names the OAuth setting that cannot be used", () => {
  const issuer = { HOOK_OAUTH_ISSUER: "https://acme.okta.com/oauth2/default" };
  const cases: [RawEnv, string][] = [
    [
      { HOOK_OAUTH_ISSUER: "http://acme.okta.com/oauth2/default", HOOK_OAUTH_AUDIENCE: "a" },
      'Cannot read HOOK_OAUTH_ISSUER: "http://acme.okta.com/oauth2/default" does not start with https://',
    ],
    [
      { HOOK_OAUTH_ISSUER: "acme", HOOK_OAUTH_AUDIENCE: "a" },
      'Cannot read HOOK_OAUTH_ISSUER: "acme" is not a URL',
    ],
    [
      { HOOK_OAUTH_ISSUER: "https://acme.okta.com/?x=1", HOOK_OAUTH_AUDIENCE: "a" },
      'Cannot read HOOK_OAUTH_ISSUER: "https://acme.okta.com/?x=1" must be the issuer exactly, without credentials, query or fragment',
    ],
    [
      issuer,
      "Cannot read HOOK_OAUTH_AUDIENCE: it must be set with HOOK_OAUTH_ISSUER (the default server's is api://default)",
    ],
    [
      { HOOK_OAUTH_AUDIENCE: "api://default" },
      "Cannot read HOOK_OAUTH_AUDIENCE: it needs HOOK_OAUTH_ISSUER to be set",
    ],
    [
      { ...issuer, HOOK_OAUTH_AUDIENCE: "a", HOOK_OAUTH_SCOPES: 'bad"scope' },
      'Cannot read HOOK_OAUTH_SCOPES: "bad"scope" is not a scope',
    ],
    [
      { ...issuer, HOOK_OAUTH_AUDIENCE: "a", HOOK_OAUTH_ACCEPT_SECRET: "maybe" },
      'Cannot read HOOK_OAUTH_ACCEPT_SECRET: "maybe" is not yes or no',
    ],
    [
      { ...issuer, HOOK_OAUTH_AUDIENCE: "a", HOOK_OAUTH_ACCEPT_SECRET: "yes" },
      "Cannot read HOOK_OAUTH_ACCEPT_SECRET: yes accepts the header secret too, but HOOK_AUTH_SECRET is not set",
    ],
    [
      { ...issuer, HOOK_OAUTH_AUDIENCE: "a", HOOK_AUTH_SECRET: "0123456789abcdef" },
      "Cannot read HOOK_AUTH_SECRET: with HOOK_OAUTH_ISSUER set only tokens are accepted; set HOOK_OAUTH_ACCEPT_SECRET=yes to accept both while switching over, or unset it",
    ],
  ];
  for (const [env, message] of cases) {
    assert.throws(
      () => parseConfig(env),
      (e: unknown) => e instanceof ConfigError && e.message === message,
      message,
    );
  }
});

Deno.test("parseConfig() reads DATABASE_URL, never echoing it", () => {
  const url = "postgres://hook:s3cret@db.example.com:5432/hook?sslmode=verify-full";
  assert.equal(parseConfig({ DATABASE_URL: url }).databaseUrl, url);
  assert.equal(
    redactedUrl(url),
    "postgres://hook:***@db.example.com:5432/hook?sslmode=verify-full",
  );
  const cases: [string, string][] = [
    ["mysql://hook:s3cret@db/hook", "Cannot read DATABASE_URL: it must start with postgres://"],
    ["hook:s3cret", "Cannot read DATABASE_URL: it must start with postgres://"],
    [
      "postgres://db.example.com/hook",
      "Cannot read DATABASE_URL: it must name a user, a host and a database (postgres://user@host/db)",
    ],
    [
      "postgres://hook:s3cret@db.example.com",
      "Cannot read DATABASE_URL: it must name a user, a host and a database (postgres://user@host/db)",
    ],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => parseConfig({ DATABASE_URL: text }),
      (e: unknown) =>
        e instanceof ConfigError && e.message === message && !e.message.includes("s3cret"),
      text,
    );
  }
});

Deno.test("a ConfigError carries the variable it names, so no caller reads it out of the message", () => {
  const cases: Record<string, string>[] = [
    { PORT: "84x3" },
    { GROUP_COMMIT_MAX: "0" },
    { TLS: "maybe" },
    { HOOK_AUTH_HEADER: "bad header" },
    { TLS_CERT_FILE: "cert.pem" },
  ];
  for (const env of cases) {
    assert.throws(() => parseConfig(env), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.ok(
        error.message.startsWith(`Cannot read ${error.setting}`),
        `${error.setting}: ${error.message}`,
      );
      return true;
    });
  }
});
