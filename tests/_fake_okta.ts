/**
 * A fake of Okta's Users and Inline Hooks APIs on 127.0.0.1 (plain http, which the Okta client
 * accepts on loopback only): SSWS token check, cursor paging with `Link` headers, the plain list
 * leaving out DEPROVISIONED users, rate-limit headers, and scripted faults (429, 5xx).
 */

/** A user as the fake stores it. */
export interface FakeUser {
  readonly id: string;
  readonly status: string;
  readonly login: string;
  /** More profile attributes the fake lists (e.g. a person attribute). */
  readonly profile?: Readonly<Record<string, string>>;
}

/** An inline hook as the fake stores it (the secret included, which it never returns). */
export interface FakeHook {
  id: string;
  status: string;
  // deno-lint-ignore no-explicit-any
  body: any;
}

/** One request the fake received. */
export interface FakeRequest {
  readonly method: string;
  /** Path and query as sent. */
  readonly url: string;
  readonly authorization: string | null;
  /** When it arrived, epoch milliseconds. */
  readonly at: number;
  readonly body: unknown;
}

/** A fault answered instead of the real reply. */
export interface FakeFault {
  readonly status: number;
  /** For 429: seconds from now to put in `X-Rate-Limit-Reset`. */
  readonly resetInSeconds?: number;
}

/** Options for {@link startFakeOkta}. */
export interface FakeOktaOptions {
  /** The token accepted as `SSWS <token>`. */
  readonly token: string;
  readonly users?: readonly FakeUser[];
  /** Users per page at most, whatever `limit` asks (to get several pages from few users). */
  readonly pageSize?: number;
  readonly hooks?: FakeHook[];
  /** The Nth user-list reply (1-based) says no requests remain, with a reset this far ahead. */
  readonly exhaustOn?: { readonly reply: number; readonly resetInSeconds: number };
}

/** A running fake. */
export interface FakeOkta {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly requests: FakeRequest[];
  readonly hooks: FakeHook[];
  users: FakeUser[];
  /** Faults answered, in order, to the next requests on /api/v1/users. */
  readonly faults: FakeFault[];
  close(): Promise<void>;
}

/** Makes `count` users named `user<i>@example.com` with ids `00u<i>`. */
export function makeUsers(count: number, status = "ACTIVE", from = 0): FakeUser[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `00u${String(from + i).padStart(4, "0")}`,
    status,
    login: `user${from + i}@example.com`,
  }));
}

/** Starts the fake on a port the OS picks. */
export function startFakeOkta(options: FakeOktaOptions): Promise<FakeOkta> {
  const requests: FakeRequest[] = [];
  const hooks = options.hooks ?? [];
  const faults: FakeFault[] = [];
  let userReplies = 0;
  let nextHook = 1;
  const state = { users: [...(options.users ?? [])] };

  const handler = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const text = await req.text();
    let body: unknown = null;
    try {
      body = text === "" ? null : JSON.parse(text);
    } catch {
      return oktaError(400, "E0000003", "The request body was not well-formed");
    }
    requests.push({
      method: req.method,
      url: `${url.pathname}${url.search}`,
      authorization: req.headers.get("authorization"),
      at: Date.now(),
      body,
    });
    if (req.headers.get("authorization") !== `SSWS ${options.token}`) {
      return oktaError(401, "E0000011", "Invalid token provided");
    }
    if (url.pathname === "/api/v1/users" && req.method === "GET") {
      const fault = faults.shift();
      if (fault !== undefined) return faultReply(fault);
      return listUsers(url, ++userReplies);
    }
    if (url.pathname === "/api/v1/inlineHooks") {
      if (req.method === "GET") {
        const type = url.searchParams.get("type");
        return json(200, hooks.filter((h) => type === null || h.body.type === type).map(view));
      }
      if (req.method === "POST") {
        const invalid = invalidHook(body);
        if (invalid !== null) return oktaError(400, "E0000001", invalid);
        const hook = { id: `cal${nextHook++}`, status: "ACTIVE", body };
        hooks.push(hook);
        return json(200, view(hook));
      }
    }
    const match = /^\/api\/v1\/inlineHooks\/([^/]+)(\/lifecycle\/activate)?$/.exec(url.pathname);
    const hook = hooks.find((h) => h.id === match?.[1]);
    if (match !== null && hook === undefined) {
      return oktaError(404, "E0000007", `Not found: Resource not found: ${match[1]} (InlineHook)`);
    }
    if (hook !== undefined && match?.[2] !== undefined && req.method === "POST") {
      hook.status = "ACTIVE";
      return json(200, view(hook));
    }
    if (hook !== undefined && req.method === "PUT") {
      const invalid = invalidHook(body);
      if (invalid !== null) return oktaError(400, "E0000001", invalid);
      hook.body = body;
      return json(200, view(hook));
    }
    return oktaError(404, "E0000022", "The endpoint does not support the provided HTTP method");
  };

  const listUsers = (url: URL, reply: number): Response => {
    const search = url.searchParams.get("search");
    let users = state.users;
    if (search === null) users = users.filter((u) => u.status !== "DEPROVISIONED");
    else if (search === 'status eq "DEPROVISIONED"') {
      users = users.filter((u) => u.status === "DEPROVISIONED");
    } else return oktaError(400, "E0000031", "Invalid search criteria");
    users = [...users].sort((a, b) => a.id.localeCompare(b.id));
    const limit = Math.min(Number(url.searchParams.get("limit") ?? "200"), options.pageSize ?? 200);
    // An opaque cursor, as Okta's are: the client must follow the link, not build it.
    const after = url.searchParams.get("after");
    const start = after === null ? 0 : Number(atob(after)) + 1;
    const page = users.slice(start, start + limit);
    const headers = new Headers({ "content-type": "application/json" });
    headers.append("link", `<${url.origin}${url.pathname}${url.search}>; rel="self"`);
    if (start + limit < users.length) {
      const next = new URL(url);
      next.searchParams.set("after", btoa(String(start + limit - 1)));
      headers.append("link", `<${next.href}>; rel="next"`);
    }
    const exhausted = options.exhaustOn?.reply === reply;
    const reset = Math.ceil(Date.now() / 1000) +
      (exhausted ? options.exhaustOn!.resetInSeconds : 60);
    headers.set("x-rate-limit-limit", "600");
    headers.set("x-rate-limit-remaining", exhausted ? "0" : String(600 - reply));
    headers.set("x-rate-limit-reset", String(reset));
    const body = page.map((u) => ({
      id: u.id,
      status: u.status,
      created: "2024-01-02T03:04:05.000Z",
      profile: { ...u.profile, login: u.login, email: u.login },
      _links: { self: { href: `${url.origin}/api/v1/users/${u.id}` } },
    }));
    return new Response(JSON.stringify(body), { status: 200, headers });
  };

  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    handler,
  );
  return Promise.resolve({
    url: `http://127.0.0.1:${server.addr.port}`,
    requests,
    hooks,
    faults,
    get users() {
      return state.users;
    },
    set users(users: FakeUser[]) {
      state.users = users;
    },
    async close() {
      await server.shutdown();
    },
  });
}

/** What Okta returns for a hook: the secret left out, as the real API does. */
function view(hook: FakeHook): unknown {
  const { authScheme, clientSecret: _secret, ...config } = hook.body.channel.config;
  return {
    id: hook.id,
    status: hook.status,
    ...hook.body,
    channel: {
      ...hook.body.channel,
      config: {
        ...config,
        authScheme: authScheme === null ? null : { type: authScheme.type, key: authScheme.key },
      },
    },
  };
}

// deno-lint-ignore no-explicit-any
function invalidHook(body: any): string | null {
  if (body?.type !== "com.okta.import.transform") return "Api validation failed: type";
  if (typeof body.name !== "string" || body.name.length === 0) return "Api validation failed: name";
  const config = body.channel?.config;
  if (typeof config?.uri !== "string" || !config.uri.startsWith("https://")) {
    return "Api validation failed: channel.config.uri";
  }
  if (body.channel.type === "OAUTH") {
    // An OAUTH channel: authScheme null, the client credentials grant's fields.
    if (config.authScheme !== null && config.authScheme !== undefined) {
      return "Api validation failed: channel.config.authScheme";
    }
    for (const field of ["clientId", "tokenUrl", "scope"]) {
      if (typeof config[field] !== "string" || config[field] === "") {
        return `Api validation failed: channel.config.${field}`;
      }
    }
    const secretPost = config.authType === "client_secret_post" &&
      typeof config.clientSecret === "string" && config.hookKeyId === undefined;
    const keyJwt = config.authType === "private_key_jwt" && typeof config.hookKeyId === "string" &&
      config.clientSecret === undefined;
    return secretPost || keyJwt ? null : "Api validation failed: channel.config.authType";
  }
  if (body.channel?.type !== "HTTP") return "Api validation failed: channel.type";
  if (config.authScheme?.type !== "HEADER" || typeof config.authScheme.value !== "string") {
    return "Api validation failed: channel.config.authScheme";
  }
  return null;
}

function faultReply(fault: FakeFault): Response {
  if (fault.status === 403) {
    return oktaError(403, "E0000006", "You do not have permission to perform the requested action");
  }
  if (fault.status !== 429) return oktaError(fault.status, "E0000009", "Internal Server Error");
  const reset = Math.ceil(Date.now() / 1000) + (fault.resetInSeconds ?? 1);
  const response = oktaError(
    429,
    "E0000047",
    "API call exceeded rate limit due to too many requests.",
  );
  response.headers.set("x-rate-limit-limit", "600");
  response.headers.set("x-rate-limit-remaining", "0");
  response.headers.set("x-rate-limit-reset", String(reset));
  return response;
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

function oktaError(status: number, code: string, summary: string): Response {
  return json(status, {
    errorCode: code,
    errorSummary: summary,
    errorLink: code,
    errorId: "oaeFake",
    errorCauses: [],
  });
}
