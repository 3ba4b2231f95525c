import { Database } from "bun:sqlite";
import { SQL } from "bun";
import { afterAll, afterEach, describe, expect, it } from "bun:test";
import { join } from "node:path";
import { ConfigError } from "../../src/errors.ts";
import { createMemoryRunStore } from "../../src/runs/memory-runs.ts";
import { openRunStore } from "../../src/runs/open-run-store.ts";
import { createPostgresRunStore } from "../../src/runs/postgres-runs.ts";
import { RunStoreError } from "../../src/runs/run-store.ts";
import { createSqliteRunStore } from "../../src/runs/sqlite-runs.ts";
import { sqliteSchemaVersion } from "../../src/sessions/sqlite-schema.ts";
import { createSqliteSessionStore } from "../../src/sessions/sqlite.ts";
import { dropDatabases, freshDatabase, testPostgres } from "../helpers/postgres.ts";
import { createTempDirs } from "../helpers/temp-dirs.ts";
import { describeRunStoreContract } from "./run-store-contract.ts";

const { make: tempDir, removeAll: removeTempDirs } = createTempDirs("skiff-runs-");
afterEach(removeTempDirs);
const pg = await testPostgres();
afterAll(() => dropDatabases(pg));

describeRunStoreContract("memory", {
  clock: { kind: "injected" },
  open: async (now) => ({ store: createMemoryRunStore({ now }) }),
});

describeRunStoreContract("sqlite", {
  clock: { kind: "injected" },
  open: async (now) => {
    const path = join(tempDir(), "skiff.db");
    return { store: createSqliteRunStore(path, { now }), another: async () => createSqliteRunStore(path, { now }) };
  },
});

if (pg) {
  const admin = new SQL(pg.url, { max: 1 });
  afterAll(() => admin.close());
  describeRunStoreContract("postgres", {
    clock: {
      kind: "database",
      async serverNow() {
        const [row] = await admin<{ ms: string }[]>`SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint AS ms`;
        return Number(row!.ms);
      },
    },
    open: async () => {
      const url = await freshDatabase(pg);
      return { store: await createPostgresRunStore(url), another: () => createPostgresRunStore(url) };
    },
  });
}

describe("createSqliteRunStore", () => {
  it("never hands one run to two processes claiming from one file at once", async () => {
    const path = join(tempDir(), "skiff.db");
    const store = createSqliteRunStore(path);
    const runs = 200;
    for (let i = 0; i < runs; i++) await store.create({ id: `r${i}`, sessionId: undefined, background: true, request: "{}" });
    const worker = join(import.meta.dir, "claim-worker.ts");
    const workers = ["a", "b", "c"].map((owner) =>
      Bun.spawn([process.execPath, worker, path, `replica-${owner}`], { stdout: "pipe", stderr: "pipe" }),
    );
    const claimed: string[][] = [];
    for (const proc of workers) {
      const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      expect({ code, err }).toEqual({ code: 0, err: "" });
      claimed.push(JSON.parse(out) as string[]);
    }
    const all = claimed.flat();
    expect(all).toHaveLength(runs);
    expect(new Set(all).size).toBe(runs);
    // Every run was appended to once, by the process that claimed it.
    for (const [index, ids] of claimed.entries()) {
      for (const id of ids.slice(0, 5)) expect((await store.events(id, 0, 10)).map((e) => JSON.parse(e.data).owner)).toEqual([`replica-${"abc"[index]}`]);
    }
    await store.close();
  }, 30_000);

  it("shares the file with the session store, in WAL mode", async () => {
    const path = join(tempDir(), "skiff.db");
    const runs = createSqliteRunStore(path);
    const sessions = createSqliteSessionStore(path);
    await runs.create({ id: "r1", sessionId: "s1", background: false, request: "{}" });
    await sessions.commitTurn("s1", { expectedVersion: 0, messages: [{ role: "user", content: "hi" }], maxMessages: 10, runId: "r1" });
    await sessions.close();
    await runs.close();
    const db = new Database(path, { readonly: true });
    expect(db.query("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
    expect(db.query("SELECT id, status, session_id FROM runs").all()).toEqual([{ id: "r1", status: "queued", session_id: "s1" }]);
    db.close();
  });

  it("names the store in its errors: a missing directory, a newer schema", () => {
    expect(() => createSqliteRunStore("/nonexistent-dir-skiff/skiff.db")).toThrow(
      "the directory of the run store sqlite:/nonexistent-dir-skiff/skiff.db does not exist; create /nonexistent-dir-skiff or choose another path",
    );
    const path = join(tempDir(), "future.db");
    const db = new Database(path, { create: true });
    db.exec("PRAGMA user_version = 99");
    db.close();
    const error = (() => {
      try {
        createSqliteRunStore(path);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(RunStoreError);
    expect((error as Error).message).toBe(
      `could not open the run store sqlite:${path}: the session database ${path} has schema version 99, but this skiff only knows versions up to ${sqliteSchemaVersion}: ` +
        "a newer skiff has migrated it. Run the newer skiff, or export with it (skiff sessions export) and import into a fresh store",
    );
  });
});

describe("createPostgresRunStore", () => {
  it("names the store without its password when the server cannot be reached", async () => {
    const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = probe.port;
    probe.stop(true);
    const error = await createPostgresRunStore(`postgres://skiff:s3cret-pw@127.0.0.1:${port}/skiff`, { connectTimeoutSec: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunStoreError);
    const message = (error as Error).message;
    expect(message).toStartWith(`could not open (connect and migrate the schema) in the run store postgres://skiff:****@127.0.0.1:${port}/skiff: `);
    expect(message).not.toContain("s3cret-pw");
  });

  it.skipIf(!pg)("fails a deleted table's writes as RunStoreError naming the store, and keeps lease errors as they are", async () => {
    const url = await freshDatabase(pg!);
    const store = await createPostgresRunStore(url, { maxConnections: 2 });
    try {
      await store.create({ id: "r1", sessionId: undefined, background: true, request: "{}", owner: "a", leaseMs: 60_000 });
      await expect(store.append("r1", "b", [])).rejects.toMatchObject({ code: "lease_lost" });
      const sql = new SQL(url, { max: 1 });
      await sql`DROP TABLE skiff_run_events`;
      await sql.close();
      const error = await store.append("r1", "a", [{ type: "x", data: "{}" }]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RunStoreError);
      expect((error as Error).message).toStartWith(`could not append a run's events in the run store ${store.description}: relation "skiff_run_events" does not exist`);
    } finally {
      await store.close();
    }
  });
});

describe("openRunStore", () => {
  it("opens the run store beside the sessions a spec names", async () => {
    const memory = await openRunStore({ kind: "memory" });
    expect([memory.description, memory.durable]).toEqual(["memory", false]);
    await memory.close();
    const path = join(tempDir(), "skiff.db");
    const sqlite = await openRunStore({ kind: "sqlite", path });
    expect([sqlite.description, sqlite.durable]).toEqual([`sqlite:${path}`, true]);
    await sqlite.close();
    if (pg) {
      const postgres = await openRunStore({ kind: "postgres", url: await freshDatabase(pg) });
      expect(postgres.durable).toBe(true);
      await postgres.close();
    }
  });

  it("turns a store that cannot be opened into a config error on server.sessions", async () => {
    const error = await openRunStore({ kind: "sqlite", path: "/nonexistent-dir-skiff/skiff.db" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues[0]).toMatchObject({ code: "unavailable", path: ["server", "sessions"] });
    expect((error as Error).message).toContain("the directory of the run store sqlite:/nonexistent-dir-skiff/skiff.db does not exist");
  });
});
