import assert from "node:assert/strict";
import { copyLoginIndex, IndexCopyError } from "./index_copy.ts";
import { LoginIndex } from "./sqlite_login_index.ts";
import { reservation, withDatabase, withTempDir } from "../../tests/_test_utils.ts";

Deno.test("copyLoginIndex() copies logins and counters, leaves the live file byte-identical and deletes the copy", async () => {
  await withDatabase("index-copy-", async (live, dir) => {
    const index = new LoginIndex(live);
    index.reserve(reservation("john.smith@example.com", { person: "N-1" }));
    live.exec("UPDATE logins SET okta_user_id = '00uJ', okta_status = 'ACTIVE'");
    index.freeSuffixedLogin({ local: "john.smith", domain: "example.com" });
    live.close();
    const before = await Deno.readFile(`${dir}/hook.db`);

    const copy = await copyLoginIndex(`${dir}/hook.db`, { dir: `${dir}/scratch` });
    assert.equal(copy.logins, 1);
    assert.deepEqual(copy.appIds, []);
    // What a holder is known by travels with the copy: preview judges people as the service does.
    assert.deepEqual(
      { ...copy.db.prepare("SELECT okta_user_id, okta_status, person FROM logins").get() },
      { okta_user_id: "00uJ", okta_status: "ACTIVE", person: "N-1" },
    );
    const counters = copy.db.prepare("SELECT base_key, next_suffix FROM suffix_counters").all();
    assert.deepEqual(counters.map((row) => ({ ...row })), [
      { base_key: "john.smith@example.com", next_suffix: 3 },
    ]);
    copy.db.exec("DELETE FROM logins");
    await copy.remove();

    assert.deepEqual(await Deno.readFile(`${dir}/hook.db`), before);
    assert.deepEqual([...Deno.readDirSync(`${dir}/scratch`)], []);
  });
});

Deno.test("copyLoginIndex() names a missing database and one without an index", async () => {
  await withTempDir("index-copy-", async (dir) => {
    await assert.rejects(copyLoginIndex(`${dir}/none.db`, { dir }), {
      name: "IndexCopyError",
      message: `Cannot read "${dir}/none.db": no such file ` +
        '(start the service or run "deno task seed" first)',
    });
    await Deno.writeTextFile(`${dir}/other.db`, "");
    await assert.rejects(
      copyLoginIndex(`${dir}/other.db`, { dir }),
      new IndexCopyError(`Cannot read "${dir}/other.db": it holds no login index`),
    );
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["other.db"]);
  });
});

Deno.test("copyLoginIndex() copies every login, row for row, across its read and write batches", async () => {
  await withDatabase("index-copy-", async (live, dir) => {
    const index = new LoginIndex(live);
    // Not a multiple of either batch (1,000 read, 50 written), with NULLs and odd characters.
    for (let n = 0; n < 2_345; n++) {
      index.reserve(reservation(`u${n}.ø'x@example.com`, { person: n % 3 === 0 ? null : `P${n}` }));
    }
    const all = (db: typeof live) =>
      db.prepare("SELECT * FROM logins ORDER BY login_key").all().map((row) => ({ ...row }));
    const expected = all(live);
    live.close();
    const copy = await copyLoginIndex(`${dir}/hook.db`, { dir: `${dir}/scratch` });
    try {
      assert.equal(copy.logins, 2_345);
      assert.deepEqual(all(copy.db), expected);
    } finally {
      await copy.remove();
    }
  });
});
