/** The service's version: `--version` on every task, `/healthz`, and `okta_hook_build_info`. */
export const VERSION = "1.0.0";

/** The `--version` line: this version and the Deno running it. */
export function versionLine(): string {
  return `okta-import-hook ${VERSION} (deno ${Deno.version.deno})`;
}
