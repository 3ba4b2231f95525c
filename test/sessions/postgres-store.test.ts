import { SQL } from "bun";
import { afterAll, describe, expect, it } from "bun:test";
import { createPostgresSessionStore } from "../../src/sessions/postgres.ts";
import { postgresSchemaVersion, schemaLockKey } from "../../src/sessions/postgres-schema.ts";
import { canStartCluster, dropDatabases, freshDatabase, ownCluster, testPostgres } from "../helpers/postgres.ts";
import { describeSessionStoreContract, turn1, turn2 } from "./store-contract.ts";

const pg = await testPostgres();
afterAll(() => dropDatabases(pg));

describe.skipIf(!pg)("Postgres session store", () => {
  describeSessionStoreContract("postgres", async ({ now }) => createPostgresSessionStore(await freshDatabase(pg!), now ? { now } : {}));

  describe("createPostgresSessionStore", () => {
    it("creates the schema on first open and records each version once, however many replicas start at once", async () => {
      const url = await freshDatabase(pg!);
      const replicas = await Promise.all(Array.from({ length: 6 }, () => createPostgresSessionStore(url, { maxConnections: 2 })));
      await Promise.all(replicas.map((store) => store.close()));
      const sql = new SQL(url, { max: 1 });
      try {
        expect(await sql`SELECT version, description FROM skiff_schema_version ORDER BY version`).toEqual([
          { version: 1, description: "sessions and their messages" },
          { version: 2, description: "index sessions by last update, for the session_ttl sweep" },
          { version: 3, description: "runs and their events (the run journal); sessions remember the run that committed their last turn" },
          { version: 4, description: "API keys' usage per UTC day and requests per minute" },
        ]);
        expect(postgresSchemaVersion).toBe(4);
        const indexes = await sql<{ indexname: string }[]>`SELECT indexname FROM pg_indexes WHERE tablename = 'skiff_sessions' ORDER BY indexname`;
        expect(indexes.map((row) => row.indexname)).toEqual(["skiff_sessions_by_updated_at", "skiff_sessions_pkey"]);
      } finally {
        await sql.close();
      }
    });

    it("refuses a database migrated by a newer skiff, naming both versions, and writes nothing", async () => {
      const url = await freshDatabase(pg!);
      await (await createPostgresSessionStore(url)).close();
      const sql = new SQL(url, { max: 1 });
      try {
        await sql`INSERT INTO skiff_schema_version (version, description, applied_at) VALUES (5, 'from the future', 0)`;
        const error = await createPostgresSessionStore(url).catch((e: unknown) => e);
        expect(String(error)).toContain("has schema version 5, but this skiff only knows versions up to 4: a newer skiff has migrated it.");
        expect(await sql`SELECT count(*)::int AS n FROM skiff_schema_version`).toEqual([{ n: 5 }]);
      } finally {
        await sql.close();
      }
    });

    it("waits for another process's migration lock instead of racing it", async () => {
      const url = await freshDatabase(pg!);
      const holder = new SQL(url, { max: 1 });
      try {
        let opened = false;
        let opening: Promise<unknown> | undefined;
        await holder.begin(async (tx) => {
          await tx`SELECT pg_advisory_xact_lock(${schemaLockKey}::bigint)`;
          opening = createPostgresSessionStore(url).then(async (store) => {
            opened = true;
            await store.close();
          });
          await Bun.sleep(300);
          // Still waiting: the lock is held until this transaction ends.
          expect(opened).toBe(false);
        });
        await opening;
        expect(opened).toBe(true);
      } finally {
        await holder.close();
      }
    });

    it("serializes two replicas committing the same version: one wins, the other gets a conflict", async () => {
      const url = await freshDatabase(pg!);
      const [a, b] = await Promise.all([createPostgresSessionStore(url), createPostgresSessionStore(url)]);
      try {
        for (let round = 0; round < 20; round++) {
          const id = `race-${round}`;
          const results = await Promise.all([
            a!.commitTurn(id, { expectedVersion: 0, messages: turn1, maxMessages: 100 }),
            b!.commitTurn(id, { expectedVersion: 0, messages: turn2, maxMessages: 100 }),
          ]);
          expect(results.filter((r) => r.ok)).toHaveLength(1);
          expect(results.find((r) => !r.ok)).toEqual({ ok: false, reason: "conflict", version: 1 });
          expect((await b!.get(id))?.messages).toEqual(results[0]!.ok ? turn1 : turn2);
        }
      } finally {
        await a!.close();
        await b!.close();
      }
    });

    // A server of its own, started with initdb: the shared one must not be restarted under other tests.
    it.skipIf(!canStartCluster())("fails commits while the server restarts, keeps every one it acknowledged, and works again after", async () => {
      const cluster = (await ownCluster())!;
      const store = await createPostgresSessionStore(cluster.url);
      let version = 0;
      let acknowledged = 0;
      let failed = 0;
      let finished = false;
      // Commit as fast as possible through the restart and for a moment after it.
      const restart = cluster.restart().then(async () => {
        await Bun.sleep(300);
        finished = true;
      });
      while (!finished) {
        try {
          const saved = await store.commitTurn("through", { expectedVersion: version, messages: turn2, maxMessages: 1_000_000 });
          // A conflict means a commit whose answer was lost in the restart did land: go on from it.
          if (saved.ok) acknowledged++;
          version = saved.version;
        } catch (error) {
          expect(String(error)).toContain("could not save a turn in the session database postgres://skiff@127.0.0.1:");
          failed++;
          await Bun.sleep(20);
        }
      }
      await restart;
      console.log(`postgres restart: ${acknowledged} commits acknowledged, ${failed} failed while it was down`);
      expect((await store.commitTurn("through", { expectedVersion: version, messages: turn2, maxMessages: 1_000_000 })).ok).toBe(true);
      const stored = (await store.get("through"))!;
      // Every acknowledged commit is there; a failed one may have landed too, but only whole.
      expect(stored.version).toBeGreaterThanOrEqual(acknowledged + 1);
      expect(stored.version).toBeLessThanOrEqual(acknowledged + 1 + failed);
      expect(stored.messages).toHaveLength(2 * stored.version);
      await store.close();
    }, 30_000);

    it("says what is wrong with an unreachable server or a missing database, never the password", async () => {
      const refused = await createPostgresSessionStore("postgres://skiff:hunter2@127.0.0.1:1/skiff", { connectTimeoutSec: 2 }).catch((e: unknown) => e);
      expect(String(refused)).toContain("could not open (connect and migrate the schema) in the session database postgres://skiff:****@127.0.0.1:1/skiff: ");
      expect(String(refused)).toContain("(ERR_POSTGRES_CONNECTION_REFUSED); is PostgreSQL running and reachable at that host and port?");
      const url = new URL(pg!.url);
      url.password = "hunter2";
      url.pathname = "/no_such_database";
      const missing = await createPostgresSessionStore(url.toString()).catch((e: unknown) => e);
      expect(String(missing)).toMatch(/database "no_such_database" does not exist \(3D000\); create the database/);
      for (const error of [refused, missing]) {
        expect(String(error)).not.toContain("hunter2");
        expect(JSON.stringify(error)).not.toContain("hunter2");
      }
    });
  });
});
