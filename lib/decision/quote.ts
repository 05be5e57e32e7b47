/**
 * Quoting a value inside a reason or an error summary: cut to a few dozen characters, so no
 * request can make a log line, an audit row or a reply large by sending a large value.
 */

/** Most characters of a value quoted in a reason. */
export const QUOTED_CHARS = 40;

/** `value` as JSON text, cut to `max` characters (whole code points) with `…` when longer. */
export function quote(value: string, max: number = QUOTED_CHARS): string {
  const points = [...value];
  const shown = points.length > max ? `${points.slice(0, max).join("")}…` : value;
  return JSON.stringify(shown);
}
