/** Certificate renewal without a restart: on SIGHUP, on request, or when the files change. */

import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import { readTls } from "./credentials.ts";
import type { Guard } from "./guard.ts";
import { delay, type InternalServer } from "./internal_server.ts";
import { StartError, tlsError } from "./start_errors.ts";

/**
 * Reloads when the certificate or key file changes (an ACME client renewing them), a moment
 * after the last change so that both files are written. Renewals often replace the files, which
 * ends a watch: it is set up again after each change.
 */
export function watchCertificate(
  files: { certFile: string; keyFile: string },
  reload: () => Promise<boolean>,
  until: Promise<void>,
): void {
  let stopped = false;
  let watcher: Deno.FsWatcher | null = null;
  void until.then(() => {
    stopped = true;
    watcher?.close();
  });
  void (async () => {
    while (!stopped) {
      let changed = false;
      try {
        watcher = Deno.watchFs([files.certFile, files.keyFile], { recursive: false });
        for await (const event of watcher) {
          if (event.kind === "access") continue;
          changed = true;
          break;
        }
        watcher.close();
      } catch {
        // A file is missing mid-renewal: look again shortly.
      }
      if (stopped) return;
      await delay(500);
      if (changed && !stopped) await reload();
    }
  })();
}

/** Serves the files' new pair to new connections; `false` (logged) keeps the old one. */
export async function reloadCertificate(
  config: Config,
  server: InternalServer,
  guard: Guard,
  log: Logger,
): Promise<boolean> {
  if (config.tls === null || config.plainHttp) {
    log.warn("Not reloading: the service has no certificate files (generated, or TLS=off)", {
      hint: "set TLS_CERT_FILE and TLS_KEY_FILE",
    });
    return false;
  }
  try {
    const pair = await readTls(config.tls);
    try {
      server.reload(pair, (port) => guard.noneTo(port));
    } catch (error) {
      throw tlsError(error, config);
    }
    log.info("Serving the new certificate to new connections", {
      cert: config.tls.certFile,
      key: config.tls.keyFile,
    });
    return true;
  } catch (error) {
    log.error("Cannot load the new certificate; the old one goes on serving", error, {
      setting: error instanceof StartError ? error.setting : "TLS_CERT_FILE",
    });
    return false;
  }
}
