/**
 * The loopback TLS server the benchmark's reference servers share: `Deno.serve` on 127.0.0.1
 * with the certificate and key files given, stopped by SIGTERM.
 */

/**
 * Serves `handler` on 127.0.0.1:`port` (0: any free port, told to `onListen`) over TLS until
 * SIGTERM; resolves when it has stopped.
 */
export async function serveTlsUntilTerm(
  port: string,
  certFile: string,
  keyFile: string,
  handler: Deno.ServeHandler<Deno.NetAddr>,
  onListen: (addr: Deno.NetAddr) => void = () => {},
): Promise<void> {
  const server = Deno.serve({
    port: Number(port),
    hostname: "127.0.0.1",
    cert: Deno.readTextFileSync(certFile),
    key: Deno.readTextFileSync(keyFile),
    onListen,
  }, handler);
  Deno.addSignalListener("SIGTERM", () => void server.shutdown());
  await server.finished;
}
