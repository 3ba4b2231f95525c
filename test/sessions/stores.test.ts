import { Database } from "bun:sqlite";
import { afterEach, describe, expect, it } from "bun:test";
import { join } from "node:path";
import { createMemorySessionStore } from "../../src/sessions/memory.ts";
import { createSqliteSessionStore } from "../../src/sessions/sqlite.ts";
import { describeSessionStoreContract, turn1, turn2 } from "./store-contract.ts";
import { createTempDirs } from "../helpers/temp-dirs.ts";

const { make: tempDir, removeAll: removeTempDirs } = createTempDirs("skiff-sessions-");
afterEach(() => {
  removeTempDirs();
});
describeSessionStoreContract("memory", ({ now }) => createMemorySessionStore(now ? { now } : {}));
describeSessionStoreContract("sqlite", ({ now }) => createSqliteSessionStore(join(tempDir(), "s.db"), now ? { now } : {}));

describe("createSqliteSessionStore", () => {
  it("keeps sessions across reopening, in WAL mode, in a pinned row format", async () => {
    const path = join(tempDir(), "s.db");
    const first = createSqliteSessionStore(path, { now: () => 1_700_000_000_000 });
    await first.commitTurn("chat-1", { expectedVersion: 0, messages: turn1, maxMessages: 100 });
    await first.close();

    const second = createSqliteSessionStore(path);
    expect((await second.get("chat-1"))?.messages).toEqual(turn1);
    await second.close();

    const db = new Database(path, { readonly: true });
    expect(db.query("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
    expect(db.query("PRAGMA user_version").get()).toEqual({ user_version: 4 });
    expect(db.query("SELECT version, description FROM schema_version ORDER BY version").all()).toEqual([
      { version: 1, description: "sessions and their messages" },
      { version: 2, description: "index sessions by last update, for the session_ttl sweep" },
      { version: 3, description: "runs and their events (the run journal); sessions remember the run that committed their last turn" },
      { version: 4, description: "API keys' usage per UTC day and requests per minute" },
    ]);
    expect(db.query("SELECT * FROM sessions").all()).toEqual([
      { id: "chat-1", version: 1, created_at: 1_700_000_000_000, updated_at: 1_700_000_000_000, last_run_id: null },
    ]);
    expect(db.query("SELECT seq, role, body FROM messages ORDER BY seq").all()).toEqual([
      { seq: 1, role: "user", body: '{"role":"user","content":"what is 2+2?"}' },
      {
        seq: 2,
        role: "assistant",
        body: '{"role":"assistant","content":null,"tool_calls":[{"id":"c1","name":"calc","arguments":"{\\"expression\\":\\"2+2\\"}"}]}',
      },
      { seq: 3, role: "tool", body: '{"role":"tool","tool_call_id":"c1","content":"{\\"result\\":4}"}' },
      { seq: 4, role: "assistant", body: '{"role":"assistant","content":"4"}' },
    ]);
    db.close();
  });

  it("serializes two stores on one file: the second writer of a version gets a conflict", async () => {
    const path = join(tempDir(), "s.db");
    const a = createSqliteSessionStore(path);
    const b = createSqliteSessionStore(path);
    const results = await Promise.all([
      a.commitTurn("x", { expectedVersion: 0, messages: turn1, maxMessages: 100 }),
      b.commitTurn("x", { expectedVersion: 0, messages: turn2, maxMessages: 100 }),
    ]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok)).toHaveLength(1);
    const stored = (await a.get("x"))?.messages;
    expect(stored === undefined ? [] : stored).toEqual(results[0]!.ok ? turn1 : turn2);
    await a.close();
    await b.close();
  });

  it("says which directory is missing", () => {
    expect(() => createSqliteSessionStore("/nonexistent-dir-skiff/s.db")).toThrow(
      /directory of the session database \/nonexistent-dir-skiff\/s\.db does not exist/,
    );
  });

  it("refuses a file written by a newer schema", () => {
    const path = join(tempDir(), "s.db");
    const db = new Database(path, { create: true });
    db.exec("PRAGMA user_version = 99");
    db.close();
    expect(() => createSqliteSessionStore(path)).toThrow(
      `the session database ${path} has schema version 99, but this skiff only knows versions up to 4: a newer skiff has migrated it.`,
    );
  });
});
