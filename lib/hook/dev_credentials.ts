/**
 * Development credentials, so `deno task start` serves HTTPS with authentication and no set-up:
 * a self-signed certificate for localhost and a random hook secret, kept under `data/`.
 * Production sets TLS_CERT_FILE, TLS_KEY_FILE and HOOK_AUTH_SECRET instead.
 */

import * as x509 from "@peculiar/x509";

/** A PEM certificate and its private key. */
export interface TlsPair {
  readonly cert: string;
  readonly key: string;
}

/** Where a development credential lives, and whether this call created it. */
export interface Ensured<T> {
  readonly value: T;
  readonly created: boolean;
}

const ECDSA = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const DAY_MS = 86_400_000;

/** Reads the secret at `path`, or writes a new random one there with mode 0600. */
export async function ensureDevSecret(path: string): Promise<Ensured<string>> {
  const existing = await readIfExists(path);
  if (existing !== null && existing.trim() !== "") {
    return { value: existing.trim(), created: false };
  }
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const secret = btoa(String.fromCharCode(...bytes)).replace(
    /[+/=]/g,
    (c) => c === "+" ? "-" : c === "/" ? "_" : "",
  );
  await Deno.writeTextFile(path, `${secret}\n`, { mode: 0o600 });
  await Deno.chmod(path, 0o600); // mode applies only on creation; a blank file may have existed
  return { value: secret, created: true };
}

/**
 * Reads the certificate and key at `certPath` and `keyPath`, or writes a new self-signed pair for
 * `localhost`, 127.0.0.1 and ::1 valid for a year (key file mode 0600). An expired pair is
 * replaced.
 */
export async function ensureDevCertificate(
  certPath: string,
  keyPath: string,
  now: Date = new Date(),
): Promise<Ensured<TlsPair>> {
  const cert = await readIfExists(certPath);
  const key = await readIfExists(keyPath);
  if (cert !== null && key !== null && new x509.X509Certificate(cert).notAfter > now) {
    return { value: { cert, key }, created: false };
  }
  const pair = await createSelfSignedCertificate(now);
  await Deno.writeTextFile(keyPath, pair.key, { mode: 0o600 });
  await Deno.chmod(keyPath, 0o600);
  await Deno.writeTextFile(certPath, pair.cert);
  return { value: pair, created: true };
}

/** A new ECDSA P-256 self-signed certificate for the loopback names. */
export async function createSelfSignedCertificate(now: Date = new Date()): Promise<TlsPair> {
  const keys = await crypto.subtle.generateKey(ECDSA, true, ["sign", "verify"]);
  const serial = Array.from(
    crypto.getRandomValues(new Uint8Array(16)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("").replace(/^[89a-f]/, "1");
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial,
    name: "CN=localhost, O=Okta import hook (development)",
    notBefore: new Date(now.getTime() - DAY_MS),
    notAfter: new Date(now.getTime() + 365 * DAY_MS),
    signingAlgorithm: ECDSA,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: "dns", value: "localhost" },
        { type: "ip", value: "127.0.0.1" },
        { type: "ip", value: "::1" },
      ]),
    ],
  });
  const pkcs8 = await crypto.subtle.exportKey("pkcs8", keys.privateKey);
  return {
    cert: `${certificate.toString("pem")}\n`,
    key: `${x509.PemConverter.encode(pkcs8, "PRIVATE KEY")}\n`,
  };
}

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}
