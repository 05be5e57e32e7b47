/**
 * A real OAuth 2.0 authorization server for the tests (`oauth2-mock-server`: metadata, JWKS, real
 * signatures), behind a small loopback proxy that counts what the service fetches and can make
 * the issuer answer 503 or hang. The proxy's URL is the issuer.
 */

import { OAuth2Server } from "oauth2-mock-server";

/** Claims of an access token as Okta's custom authorization servers issue them. */
export const AUDIENCE = "api://import-hook";
export const SCOPE = "okta.hooks.import";
export const CLIENT_ID = "0oaHookClient";

/** How the issuer answers. */
export type IssuerMode = "up" | "down" | "hang";

/** A running issuer. */
export interface TestIssuer {
  /** The issuer URL (the proxy's), as tokens name it in `iss`. */
  readonly url: string;
  readonly server: OAuth2Server;
  /** The kid of the signing key made at start. */
  readonly kid: string;
  /** Requests that reached the proxy, by path. */
  readonly fetched: Map<string, number>;
  mode: IssuerMode;
  /** An Okta-shaped access token signed by the current key (or `kid`), with `claims` changed. */
  token(claims?: Record<string, unknown>, kid?: string): Promise<string>;
  close(): Promise<void>;
}

/** Options for {@link startIssuer}. */
export interface IssuerOptions {
  /** Serve the metadata at `/.well-known/oauth-authorization-server` too (Okta's path). */
  readonly oauthMetadata?: boolean;
  readonly mode?: IssuerMode;
}

/** Starts the mock server and its proxy on 127.0.0.1. */
export async function startIssuer(options: IssuerOptions = {}): Promise<TestIssuer> {
  const server = new OAuth2Server();
  const key = await server.issuer.keys.generate("RS256");
  await server.start(0, "127.0.0.1");
  const upstream = `http://127.0.0.1:${server.address().port}`;
  const fetched = new Map<string, number>();
  const hanging = new Set<() => void>();
  const proxy = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const path = new URL(request.url).pathname;
      fetched.set(path, (fetched.get(path) ?? 0) + 1);
      if (issuer.mode === "down") return new Response("down", { status: 503 });
      if (issuer.mode === "hang") {
        // Answered only when the test closes the issuer.
        await new Promise<void>((resolve) => hanging.add(resolve));
        return new Response("gone", { status: 503 });
      }
      const target = path === "/.well-known/oauth-authorization-server" && options.oauthMetadata
        ? "/.well-known/openid-configuration"
        : path;
      const response = await fetch(`${upstream}${target}`, {
        method: request.method,
        headers: {
          "content-type": request.headers.get("content-type") ?? "application/json",
          authorization: request.headers.get("authorization") ?? "",
        },
        body: request.method === "GET" ? null : await request.arrayBuffer(),
      });
      return new Response(await response.arrayBuffer(), {
        status: response.status,
        headers: { "content-type": response.headers.get("content-type") ?? "application/json" },
      });
    },
  );
  const url = `http://127.0.0.1:${proxy.addr.port}`;
  server.issuer.url = url;
  const issuer: TestIssuer = {
    url,
    server,
    kid: String(key.kid),
    fetched,
    mode: options.mode ?? "up",
    token: (claims = {}, kid) =>
      server.issuer.buildToken({
        ...(kid === undefined ? {} : { kid }),
        scopesOrTransform: (_header: unknown, payload: Record<string, unknown>) => {
          Object.assign(payload, {
            aud: AUDIENCE,
            scp: [SCOPE],
            cid: CLIENT_ID,
            sub: CLIENT_ID,
            ver: 1,
          }, claims);
          for (const [name, value] of Object.entries(claims)) {
            if (value === undefined) delete payload[name];
          }
        },
      }),
    async close() {
      for (const release of hanging) release();
      await proxy.shutdown();
      await server.stop();
    },
  };
  return issuer;
}

/** Base64url of a JSON value, for hand-made tokens. */
export function b64url(value: unknown): string {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}
