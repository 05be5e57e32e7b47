/**
 * The two engines' schemas, compared: a table, column or view added to one and not the other
 * fails here, before any behaviour test has to notice.
 */

import assert from "node:assert/strict";
import { openDatabase } from "./database.ts";
import { connectPostgres, migratePostgres } from "./postgres.ts";
import { makeTempDir } from "../../tests/_test_utils.ts";
import { withPostgresDatabase } from "../../tests/_postgres.ts";

/** Each table and view, with its columns in order: "table logins: login_key, login, ...". */
type Shape = string[];

/** Bookkeeping each engine keeps its own way (SQLite's version is `PRAGMA user_version`). */
const OWN = new Set(["schema_version"]);

async function sqliteShape(): Promise<Shape> {
  const dir = await makeTempDir("parity-");
  const db = openDatabase(`${dir}/hook.db`);
  try {
    const objects = db.prepare(
      `SELECT type, name FROM sqlite_schema
       WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name`,
    ).all() as { type: string; name: string }[];
    return objects.filter((o) => !OWN.has(o.name)).map((o) => {
      const columns = db.prepare(`SELECT name FROM pragma_table_info(?) ORDER BY cid`).all(o.name)
        .map((c) => (c as { name: string }).name);
      return `${o.type} ${o.name}: ${columns.join(", ")}`;
    });
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function postgresShape(url: string): Promise<Shape> {
  const sql = connectPostgres(url, { max: 1 });
  try {
    await migratePostgres(sql);
    const objects = await sql<{ type: string; name: string }[]>`
      SELECT CASE table_type WHEN 'VIEW' THEN 'view' ELSE 'table' END AS type, table_name AS name
      FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name`;
    const shape: Shape = [];
    for (const o of objects.filter((o) => !OWN.has(o.name))) {
      const columns = await sql<{ name: string }[]>`
        SELECT column_name AS name FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = ${o.name} ORDER BY ordinal_position`;
      shape.push(`${o.type} ${o.name}: ${columns.map((c) => c.name).join(", ")}`);
    }
    return shape;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

Deno.test("SQLite and PostgreSQL have the same tables and views, with the same columns in order", async () => {
  const sqlite = await sqliteShape();
  const pg = await withPostgresDatabase(postgresShape);
  assert.ok(sqlite.some((line) => line.startsWith("table decisions: event_id")), sqlite.join("\n"));
  assert.deepEqual(pg, sqlite);
});
