/**
 * The reference floor for `deno task bench`: a bare `Deno.serve` over the same TLS certificate as
 * the service that reads the whole request body and answers 204. Whatever the service costs
 * beyond this is the hook's own work.
 *
 * Usage: deno run --allow-net=127.0.0.1 --allow-read=data/bench-tmp bench/floor_server.ts \
 *   PORT CERT_FILE KEY_FILE
 */

import { serveTlsUntilTerm } from "./_tls_server.ts";

const [port, certFile, keyFile] = Deno.args;
if (port === undefined || certFile === undefined || keyFile === undefined) {
  throw new TypeError("Usage: floor_server.ts PORT CERT_FILE KEY_FILE");
}

await serveTlsUntilTerm(port, certFile, keyFile, async (request) => {
  await request.arrayBuffer();
  return new Response(null, { status: 204 });
});
