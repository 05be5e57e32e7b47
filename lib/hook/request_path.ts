/**
 * The request's path, from the request target alone. Deno builds `request.url` from the Host
 * header, which the client chooses: `new URL()` throws on a malformed one (`[`, `a b`), and a
 * Host holding `/` would move the path. The URL is `scheme://` + authority + target, so the
 * target starts after the authority the Host header gave; the query and fragment are dropped.
 */
export function requestPath(request: Request): string {
  const url = request.url;
  const scheme = url.indexOf("://");
  let start = scheme === -1 ? 0 : scheme + 3;
  const host = request.headers.get("host");
  if (host !== null && host !== "" && url.startsWith(host, start)) start += host.length;
  else {
    const slash = url.indexOf("/", start);
    start = slash === -1 ? url.length : slash;
  }
  const target = url.slice(start);
  const end = target.search(/[?#]/);
  const path = end === -1 ? target : target.slice(0, end);
  return path.startsWith("/") ? path : `/${path}`;
}
