/**
 * The watch store's record in workerd's SQLite: rows of the layout before the one record (mark,
 * budget, misses in their own rows) are migrated into the record once, then never read again.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { WatchStore } from "../../worker/store/watch/store.ts";

describe("watch store", () => {
  it("migrates the previous layout's rows into the record once and drops them", async () => {
    const stub = env.FILL_MONITOR.get(env.FILL_MONITOR.idFromName("watch-store-migration"));
    await runInDurableObject(stub, (_i, state) => {
      const sql = state.storage.sql;
      const store = new WatchStore(sql);
      expect(store.record()).toBeNull();
      const put = (k: string, v: unknown) =>
        sql.exec(`INSERT INTO watch_state (key, value) VALUES (?, ?)`, k, JSON.stringify(v));
      put("mark", { account: "7", id: "123456789012345678901", at: 1_800_000_000_000 });
      put("budget", { spent: [[1_800_000_000_500, 6]], paused_until: 1_800_000_060_000 });
      put("misses", []);

      const rec = new WatchStore(sql).record();
      expect(rec).toMatchObject({
        account: "7",
        mark: { id: "123456789012345678901", at: 1_800_000_000_000 },
        budget: { spent: [[1_800_000_000_500, 6]], pausedUntil: 1_800_000_060_000 },
        misses: [],
      });
      // Read once: the record is stored, the old rows are gone.
      const keys = sql.exec<{ key: string }>(`SELECT key FROM watch_state ORDER BY key`).toArray();
      expect(keys.map((r) => r.key)).toEqual(["record"]);
      expect(new WatchStore(sql).record()).toEqual(rec);
    });
  });
});
