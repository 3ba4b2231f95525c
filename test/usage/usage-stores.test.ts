/**
 * The usage store contract, run against every adapter (memory, a real SQLite file, a real
 * Postgres database), plus what sharing means: two SQLite connections on one file, and two
 * Postgres pools (two replicas) adding to one key at once, lose no addition and count every
 * request exactly once.
 */
import { afterAll, afterEach, describe, expect, it } from "bun:test";
import { join } from "node:path";
import { createMemoryUsageStore } from "../../src/usage/memory-usage.ts";
import { createPostgresUsageStore } from "../../src/usage/postgres-usage.ts";
import { createSqliteUsageStore } from "../../src/usage/sqlite-usage.ts";
import { type KeyUsageStore, noUsage } from "../../src/usage/usage-store.ts";
import { dropDatabases, freshDatabase, testPostgres } from "../helpers/postgres.ts";
import { createTempDirs } from "../helpers/temp-dirs.ts";

const pg = await testPostgres();
const { make: tempDir, removeAll } = createTempDirs("skiff-usage-");
const open: KeyUsageStore[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((store) => store.close()));
  removeAll();
});
afterAll(() => dropDatabases(pg));

const keep = (store: KeyUsageStore) => (open.push(store), store);
const usage = (runs: number, inputTokens: number, outputTokens: number, costUsd: number) => ({ runs, inputTokens, outputTokens, costUsd });

interface Adapter {
  readonly name: string;
  readonly skip: boolean;
  /** A store on a new database, and a second store on the same database (another process or replica). */
  readonly pair: () => Promise<[KeyUsageStore, KeyUsageStore]>;
}

const adapters: readonly Adapter[] = [
  {
    name: "memory",
    skip: false,
    pair: async () => {
      const store = keep(createMemoryUsageStore());
      return [store, store];
    },
  },
  {
    name: "sqlite",
    skip: false,
    pair: async () => {
      const path = join(tempDir(), "skiff.db");
      return [keep(createSqliteUsageStore(path)), keep(createSqliteUsageStore(path))];
    },
  },
  {
    name: "postgres",
    skip: !pg,
    pair: async () => {
      const url = await freshDatabase(pg!);
      return [keep(await createPostgresUsageStore(url)), keep(await createPostgresUsageStore(url))];
    },
  },
];

for (const adapter of adapters) {
  describe.skipIf(adapter.skip)(`KeyUsageStore (${adapter.name})`, () => {
    it("counts requests per clock minute, starting over each minute, and counts a late replica's request in the newer minute", async () => {
      const [store] = await adapter.pair();
      expect(await store.countRequest("a", 100)).toBe(1);
      expect(await store.countRequest("a", 100)).toBe(2);
      expect(await store.countRequest("b", 100)).toBe(1);
      expect(await store.countRequest("a", 101)).toBe(1);
      // A replica whose clock is behind still counts against the newer minute.
      expect(await store.countRequest("a", 100)).toBe(2);
      expect(await store.countRequest("a", 102)).toBe(1);
    });

    it("adds usage per key and day and answers the day's totals after each addition", async () => {
      const [store] = await adapter.pair();
      expect(await store.day("a", "2026-05-01")).toEqual(noUsage);
      expect(await store.add("a", "2026-05-01", usage(1, 0, 0, 0))).toEqual(usage(1, 0, 0, 0));
      expect(await store.add("a", "2026-05-01", usage(0, 120, 30, 0.25))).toEqual(usage(1, 120, 30, 0.25));
      expect(await store.add("a", "2026-05-02", usage(0, 5_000_000_000, 1, 0))).toEqual(usage(0, 5_000_000_000, 1, 0));
      expect(await store.day("a", "2026-05-01")).toEqual(usage(1, 120, 30, 0.25));
      expect(await store.day("b", "2026-05-01")).toEqual(noUsage);
    });

    it("lists days newest first, then keys in byte order, for some keys or all, within the range", async () => {
      const [store] = await adapter.pair();
      for (const [key, day] of [["b", "2026-05-01"], ["a", "2026-05-01"], ["B", "2026-05-02"], ["a", "2026-04-30"], ["a", "2026-05-03"]] as const) {
        await store.add(key, day, usage(1, 1, 1, 0));
      }
      const all = await store.list({ fromDay: "2026-05-01", toDay: "2026-05-02" });
      expect(all.map((row) => `${row.day} ${row.key}`)).toEqual(["2026-05-02 B", "2026-05-01 a", "2026-05-01 b"]);
      const some = await store.list({ keys: ["a", "B"], fromDay: "2026-04-30", toDay: "2026-05-03" });
      expect(some.map((row) => `${row.day} ${row.key}`)).toEqual(["2026-05-03 a", "2026-05-02 B", "2026-05-01 a", "2026-04-30 a"]);
      expect(some[0]).toEqual({ key: "a", day: "2026-05-03", ...usage(1, 1, 1, 0) });
    });

    it("loses no addition and repeats no request count when two connections write at once", async () => {
      const [first, second] = await adapter.pair();
      const adds = Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? first : second).add("shared", "2026-05-01", usage(1, 3, 2, 0.5)));
      const counts = Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? second : first).countRequest("shared", 500));
      await Promise.all(adds);
      expect(await first.day("shared", "2026-05-01")).toEqual(usage(100, 300, 200, 50));
      // Every request got its own number: 1..100, none twice.
      expect((await Promise.all(counts)).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    });
  });
}
