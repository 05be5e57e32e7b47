/**
 * What the service proves itself and its callers with: the development secret and certificate it
 * generates, the configured TLS pair, and the one place the authentication is chosen.
 */

import { join } from "node:path";
import type { Config } from "../config.ts";
import { type Logger, messageOf } from "../log.ts";
import { type AuthCheck, createSecretCheck, eitherCheck } from "./auth.ts";
import { ensureDevCertificate, ensureDevSecret, type TlsPair } from "./dev_credentials.ts";
import { createTokenCheck, type IssuerKeys } from "./oauth.ts";
import { StartError } from "./start_errors.ts";

/** Where generated development files go, relative to the data directory. */
export const DEV_FILES = {
  secret: "hook-secret",
  cert: "dev-cert.pem",
  key: "dev-key.pem",
} as const;

/** Where the generated files live, and where to say so. */
export interface DevOptions {
  readonly dataDir: string;
  readonly log: Logger;
}

/** The generated development secret in `dataDir`, created on first use. */
export async function devSecret(options: DevOptions): Promise<string> {
  const path = join(options.dataDir, DEV_FILES.secret);
  const { value, created } = await ensureDevSecret(path);
  options.log.info(
    created ? "Generated a development hook secret" : "Using the development hook secret",
    { file: path, hint: "Set HOOK_AUTH_SECRET in production" },
  );
  return value;
}

/** The generated self-signed development pair in `dataDir`, created on first use. */
export async function devCertificate(options: DevOptions): Promise<TlsPair> {
  const cert = join(options.dataDir, DEV_FILES.cert);
  const key = join(options.dataDir, DEV_FILES.key);
  const { value, created } = await ensureDevCertificate(cert, key);
  options.log.info(
    created
      ? "Generated a self-signed development certificate"
      : "Using the self-signed development certificate",
    {
      cert,
      key,
      hint: "Okta needs a publicly trusted certificate: set TLS_CERT_FILE and TLS_KEY_FILE",
    },
  );
  return value;
}

/** The configured certificate and key; a file that cannot be read names its variable. */
export async function readTls(files: { certFile: string; keyFile: string }): Promise<TlsPair> {
  return {
    cert: await readSetting(files.certFile, "TLS_CERT_FILE"),
    key: await readSetting(files.keyFile, "TLS_KEY_FILE"),
  };
}

async function readSetting(path: string, variable: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new StartError(variable, `Cannot read ${variable}: "${path}": ${messageOf(error)}`, {
      cause: error,
    });
  }
}

/** The check `config` asks for: the header secret, OAuth bearer tokens, or either. */
export function authCheck(
  config: Config,
  secrets: readonly string[],
  keys: IssuerKeys | null,
): AuthCheck {
  if (config.oauth === null || keys === null) return createSecretCheck(secrets, config.authHeader);
  const tokens = createTokenCheck(config.oauth, keys);
  return config.oauth.acceptSecret
    ? eitherCheck(createSecretCheck(secrets, config.authHeader), tokens)
    : tokens;
}

/** Logs a warning when `path` (a key, a secret, the logins) can be read by others than its owner. */
export async function warnIfReadable(path: string, what: string, log: Logger): Promise<void> {
  let mode: number | null;
  try {
    mode = (await Deno.stat(path)).mode;
  } catch {
    return; // A missing file is reported where it is read.
  }
  if (mode === null || (mode & 0o044) === 0) return;
  log.warn(`${what} can be read by other users`, {
    file: path,
    mode: `0${(mode & 0o777).toString(8)}`,
    hint: `chmod 600 ${path}`,
  });
}
