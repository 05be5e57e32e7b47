/**
 * Start-up failures as one line naming the setting to fix. Deno's own errors are told apart by
 * class; where a library gives only text, one function reads it, with a test per message.
 */

import { type Config, ConfigError, redactedUrl } from "../config.ts";
import { messageOf } from "../log.ts";

/**
 * The service cannot start: `setting` names what to fix (an environment variable, or the data
 * directory), the message says why. A {@link ConfigError} found only once the service tries.
 */
export class StartError extends ConfigError {
  override name = "StartError";
}

/**
 * Why a store could not be opened, naming the setting: `DATABASE_URL` for PostgreSQL, else
 * `DB_PATH` with the cause in an operator's words.
 */
export function storeError(
  error: unknown,
  config: { readonly databaseUrl: string | null; readonly dbPath: string },
): StartError {
  const text = messageOf(error);
  if (config.databaseUrl !== null) {
    return new StartError(
      "DATABASE_URL",
      `Cannot use DATABASE_URL ${redactedUrl(config.databaseUrl)}: ${text}`,
      { cause: error },
    );
  }
  return new StartError(
    "DB_PATH",
    `Cannot open DB_PATH "${config.dbPath}": ${dbFileProblem(text)}`,
    {
      cause: error,
    },
  );
}

/**
 * The cause of a database file that cannot be opened, from the message alone: the worker sends
 * its error across the thread as text, so no code survives.
 */
export function dbFileProblem(text: string): string {
  if (/NotFound|No such file/.test(text)) return "its directory does not exist";
  if (/PermissionDenied|Permission denied|readonly|unable to open/i.test(text)) {
    return "it cannot be created or opened here (is the directory writable by this user?)";
  }
  return text;
}

/** The setting at fault when the certificate and key cannot be served. */
export function tlsError(error: unknown, config: Pick<Config, "tls">): StartError {
  const [setting, why] = tlsProblem(messageOf(error));
  const file = setting === "TLS_KEY_FILE" ? config.tls?.keyFile : config.tls?.certFile;
  return new StartError(setting, `Cannot use ${setting} "${file ?? "(generated)"}": it ${why}`, {
    cause: error,
  });
}

/**
 * The file at fault and why, from the message `Deno.serve` throws for a pair it cannot use: it
 * gives no code, only text.
 */
export function tlsProblem(text: string): ["TLS_CERT_FILE" | "TLS_KEY_FILE", string] {
  if (/No certificates found/.test(text)) return ["TLS_CERT_FILE", "holds no PEM certificate"];
  if (/No keys found/.test(text)) return ["TLS_KEY_FILE", "holds no PEM private key"];
  if (/KeyMismatch|keys may not be consistent/.test(text)) {
    return ["TLS_KEY_FILE", "does not match the certificate in TLS_CERT_FILE"];
  }
  return ["TLS_CERT_FILE", `cannot be served: ${text}`];
}

/** The setting at fault when the public port cannot be opened. */
export function listenError(
  error: unknown,
  config: Pick<Config, "port" | "hostname">,
): StartError {
  const { port, hostname } = config;
  if (error instanceof Deno.errors.PermissionDenied) {
    return new StartError(
      "PORT",
      `Cannot listen on PORT ${port}: permission denied (a port below 1024 needs root or ` +
        "CAP_NET_BIND_SERVICE, e.g. AmbientCapabilities= in the systemd unit)",
      { cause: error },
    );
  }
  if (error instanceof Deno.errors.AddrInUse) {
    return new StartError("PORT", `Cannot listen on PORT ${port}: it is in use on ${hostname}`, {
      cause: error,
    });
  }
  if (error instanceof Deno.errors.AddrNotAvailable) {
    return new StartError(
      "BIND_ADDRESS",
      `Cannot listen on BIND_ADDRESS "${hostname}": not an address of this machine`,
      {
        cause: error,
      },
    );
  }
  if (error instanceof URIError || /lookup address|invalid host/.test(messageOf(error))) {
    return new StartError(
      "BIND_ADDRESS",
      `Cannot listen on BIND_ADDRESS "${hostname}": it cannot be resolved`,
      {
        cause: error,
      },
    );
  }
  return new StartError("PORT", `Cannot listen on ${hostname}:${port}: ${messageOf(error)}`, {
    cause: error,
  });
}
