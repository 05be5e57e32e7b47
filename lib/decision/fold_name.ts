/**
 * Text folding: the key Okta compares logins by, and the safe ASCII form a name takes inside a
 * new login.
 */

const COMBINING_MARKS = /\p{M}/gu;

// Letters that Unicode decomposition leaves alone but that have a conventional ASCII spelling.
const SPECIAL_LETTERS: Record<string, string> = {
  "ß": "ss",
  "æ": "ae",
  "œ": "oe",
  "ø": "o",
  "đ": "d",
  "ð": "d",
  "ħ": "h",
  "ı": "i",
  "ł": "l",
  "þ": "th",
  "ŋ": "n",
};
const SPECIAL_LETTER = new RegExp(`[${Object.keys(SPECIAL_LETTERS).join("")}]`, "g");

/**
 * The key two logins are compared by. Okta treats logins as equal when they differ only in case
 * or diacritics (`Zoë.Darcy@x` and `zoe.darcy@X` are one login): decompose, drop combining
 * marks, lower-case.
 */
export function loginKey(login: string): string {
  return login.normalize("NFD").replace(COMBINING_MARKS, "").toLowerCase().normalize("NFC");
}

/**
 * Folds a personal name into a lower-case ASCII fragment usable in a login's local part:
 * diacritics dropped (`Núñez` -> `nunez`), a few letters spelled out (`ß` -> `ss`), apostrophes
 * and quotes removed (`O'Neil` -> `oneil`), every run of other characters (spaces, hyphens, dots)
 * turned into one hyphen (`Mary Kate` -> `mary-kate`), and hyphens trimmed from the ends. Letters
 * with no ASCII form (Cyrillic, CJK) are dropped, so the result may be empty.
 */
export function foldName(name: string): string {
  return name
    .normalize("NFKD")
    .replace(COMBINING_MARKS, "")
    .toLowerCase()
    .replace(SPECIAL_LETTER, (letter) => SPECIAL_LETTERS[letter] ?? "")
    .replace(/['’‘`´ʼ"]/g, "")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}
