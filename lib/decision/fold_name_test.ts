import assert from "node:assert/strict";
import { foldName, loginKey } from "./fold_name.ts";

Deno.test("loginKey() lower-cases a login", () => {
  assert.equal(loginKey("John.Smith@Example.COM"), "john.smith@example.com");
});

Deno.test("loginKey() drops diacritics, composed or decomposed", () => {
  assert.equal(loginKey("Zoë.Darcy@X.com"), "zoe.darcy@x.com");
  assert.equal(loginKey("Zoe\u0308.Darcy@x.com"), "zoe.darcy@x.com");
  assert.equal(loginKey("ÅNGSTRÖM@x.com"), "angstrom@x.com");
  assert.equal(loginKey("İstanbul@x.com"), "istanbul@x.com");
});

Deno.test("loginKey() counts letters that do not decompose as their ASCII spelling", () => {
  assert.equal(loginKey("Straße@x.com"), loginKey("strasse@x.com"));
  assert.equal(loginKey("STRAẞE@x.com"), "strasse@x.com");
  assert.equal(loginKey("Søren.Ødegård@x.com"), "soren.odegard@x.com");
  assert.equal(loginKey("Łukasz.Wałęsa@x.com"), "lukasz.walesa@x.com");
  assert.equal(loginKey("Đorđe@x.com"), "dorde@x.com");
  assert.equal(loginKey("Æsa.Œdipe@x.com"), "aesa.oedipe@x.com");
  assert.equal(loginKey("ΟΔΥΣΣΕΥΣ@x.com"), loginKey("οδυσσευσ@x.com"));
});

Deno.test("loginKey() expands compatibility forms: ligatures, full-width letters", () => {
  assert.equal(loginKey("ﬁona@x.com"), "fiona@x.com");
  assert.equal(loginKey("ＪＯＨＮ.smith@x.com"), "john.smith@x.com");
  assert.equal(loginKey("john.smith＠x.com"), "john.smith@x.com");
});

// Okta's documented rule: logins differing only in case or diacritical marks are one login.
const oktaFold = (s: string): string =>
  s.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase().normalize("NFC");

Deno.test("loginKey() is at least as strict as Okta and a fixed point, for every code point", () => {
  const coarser: string[] = [];
  const moving: string[] = [];
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const c = String.fromCodePoint(cp);
    const key = loginKey(c);
    if (loginKey(oktaFold(c)) !== key) coarser.push(cp.toString(16));
    if (loginKey(key) !== key) moving.push(cp.toString(16));
  }
  assert.deepEqual(coarser, []);
  assert.deepEqual(moving, []);
});

Deno.test("loginKey() is at least as strict as Okta in strings that mix cases, marks and forms", () => {
  const pieces = [
    "Σ",
    "ς",
    "σ",
    "İ",
    "i",
    "\u0307",
    "e",
    "\u0301",
    "é",
    "ß",
    "ẞ",
    "ﬁ",
    "Ｆ",
    "ǅ",
    "@",
  ];
  let seed = 20261202;
  const random = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  for (let i = 0; i < 5000; i++) {
    const text = Array.from({ length: 1 + random(8) }, () => pieces[random(pieces.length)]).join(
      "",
    );
    assert.equal(loginKey(oktaFold(text)), loginKey(text), JSON.stringify(text));
    assert.equal(loginKey(loginKey(text)), loginKey(text), JSON.stringify(text));
  }
});

Deno.test('foldName() turns "María José" into "maria-jose"', () => {
  assert.equal(foldName("María José"), "maria-jose");
});

Deno.test('foldName() turns "O\'Neil" into "oneil", dropping every kind of apostrophe', () => {
  assert.equal(foldName("O'Neil"), "oneil");
  assert.equal(foldName("D’Arcy"), "darcy");
  assert.equal(foldName("O`Brien"), "obrien");
  assert.equal(foldName('Jo "JJ" Li'), "jo-jj-li");
});

Deno.test('foldName() turns "Mary Kate" into "mary-kate", one hyphen per run of separators', () => {
  assert.equal(foldName("Mary Kate"), "mary-kate");
  assert.equal(foldName("Mary -- Kate"), "mary-kate");
  assert.equal(foldName("mary..kate"), "mary-kate");
  assert.equal(foldName("Jean-Luc"), "jean-luc");
});

Deno.test("foldName() trims separators from both ends", () => {
  assert.equal(foldName("  -Anne-  "), "anne");
  assert.equal(foldName("(Anne)"), "anne");
});

Deno.test("foldName() spells out letters that have no decomposition", () => {
  assert.equal(foldName("Strauß"), "strauss");
  assert.equal(foldName("Søren"), "soren");
  assert.equal(foldName("Æsa"), "aesa");
  assert.equal(foldName("Œdipe"), "oedipe");
  assert.equal(foldName("Łukasz"), "lukasz");
  assert.equal(foldName("Þór"), "thor");
  assert.equal(foldName("Đorđe"), "dorde");
});

Deno.test("foldName() expands compatibility characters", () => {
  assert.equal(foldName("ﬁne"), "fine");
  assert.equal(foldName("Ⅻ"), "xii");
});

Deno.test("foldName() drops letters with no ASCII form, possibly to an empty string", () => {
  assert.equal(foldName("李小龙"), "");
  assert.equal(foldName("Иван"), "");
  assert.equal(foldName("Anna 李"), "anna");
  assert.equal(foldName(""), "");
});

Deno.test("foldName() keeps digits", () => {
  assert.equal(foldName("John 3rd"), "john-3rd");
});
