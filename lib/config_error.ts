/** What every setting's parser shares: the error naming the setting, and reading one value. */

/** A setting that cannot be used; the message names the variable. */
export class ConfigError extends Error {
  override name = "ConfigError";
  /** The variable or argument at fault, as the message names it. */
  readonly setting: string;

  constructor(setting: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.setting = setting;
  }
}

/** The variable's trimmed value, or `undefined` when unset or blank. */
export function optional<K extends string>(
  env: Readonly<Partial<Record<K, string>>>,
  name: K,
): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

/** `text` as a URL, or a ConfigError naming `name` and saying `problem`. */
export function urlSetting(name: string, text: string, problem: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new ConfigError(name, `Cannot read ${name}: ${problem}`);
  }
}

/** A profile attribute name as Okta's schemas allow it. */
export const ATTRIBUTE_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,99}$/;
