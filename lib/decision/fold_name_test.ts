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

Deno.test("loginKey() keeps letters that have no decomposition, lower-cased", () => {
  assert.equal(loginKey("Straße@x.com"), "straße@x.com");
  assert.equal(loginKey("Ø@x.com"), "ø@x.com");
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
