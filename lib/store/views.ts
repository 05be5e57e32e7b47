/**
 * Audit views both engines create in the same words. A migration's text is history: change a
 * view here only together with a new migration on both engines (SQLite's `MIGRATIONS` in
 * database.ts, PostgreSQL's in postgres.ts); schema_parity_test.ts compares what they make.
 */

/** Every decision that changed a login or could not: what an admin checks after an import. */
export const LOGIN_CHANGES_VIEW = `  CREATE VIEW login_changes AS
  SELECT received_at, job_id, app_id, external_id, original_login, final_login, outcome,
         strategy, reused, reason, event_id
  FROM decisions
  WHERE outcome IN ('resolved', 'unresolved');`;
