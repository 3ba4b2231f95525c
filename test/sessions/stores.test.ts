import { Database } from "bun:sqlite";
import { afterEach, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Message } from "../../src/model/messages.ts";
import type { SessionStore } from "../../src/sessions/index.ts";
import { createMemorySessionStore } from "../../src/sessions/memory.ts";
import { createSqliteSessionStore } from "../../src/sessions/sqlite.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "skiff-sessions-"));
  dirs.push(dir);
  return dir;
}

const turn1: Message[] = [
  { role: "user", content: "what is 2+2?" },
  { role: "assistant", content: null, tool_calls: [{ id: "c1", name: "calc", arguments: '{"expression":"2+2"}' }] },
  { role: "tool", tool_call_id: "c1", content: '{"result":4}' },
  { role: "assistant", content: "4" },
];
const turn2: Message[] = [
  { role: "user", content: "and 3+3?" },
  { role: "assistant", content: "6" },
];

const stores: [string, () => SessionStore][] = [
  ["memory", () => createMemorySessionStore()],
  ["sqlite", () => createSqliteSessionStore(join(tempDir(), "s.db"))],
];

for (const [name, open] of stores) {
  describe(`SessionStore (${name})`, () => {
    it("creates a session on its first turn and appends later turns", async () => {
      const store = open();
      expect(await store.get("a")).toBeUndefined();
      expect(await store.commitTurn("a", { expectedVersion: 0, messages: turn1, maxMessages: 100 })).toEqual({ ok: true, version: 1 });
      expect(await store.commitTurn("a", { expectedVersion: 1, messages: turn2, maxMessages: 100 })).toEqual({ ok: true, version: 2 });
      const session = await store.get("a");
      expect(session?.messages).toEqual([...turn1, ...turn2]);
      expect(session?.version).toBe(2);
      expect(session!.updatedAt).toBeGreaterThanOrEqual(session!.createdAt);
      await store.close();
    });

    it("refuses a turn that started from an older version, and writes nothing of it", async () => {
      const store = open();
      await store.commitTurn("a", { expectedVersion: 0, messages: turn1, maxMessages: 100 });
      expect(await store.commitTurn("a", { expectedVersion: 0, messages: turn2, maxMessages: 100 })).toEqual({
        ok: false,
        reason: "conflict",
        version: 1,
      });
      expect((await store.get("a"))?.messages).toEqual(turn1);
      await store.close();
    });

    it("drops the oldest whole turns beyond maxMessages", async () => {
      const store = open();
      await store.commitTurn("a", { expectedVersion: 0, messages: turn1, maxMessages: 5 });
      await store.commitTurn("a", { expectedVersion: 1, messages: turn2, maxMessages: 5 });
      expect((await store.get("a"))?.messages).toEqual(turn2);
      await store.close();
    });

    it("deletes a session, and says when there was none", async () => {
      const store = open();
      await store.commitTurn("a", { expectedVersion: 0, messages: turn2, maxMessages: 10 });
      expect(await store.delete("a")).toBe(true);
      expect(await store.get("a")).toBeUndefined();
      expect(await store.delete("a")).toBe(false);
      // A deleted session starts again at version 0.
      expect(await store.commitTurn("a", { expectedVersion: 0, messages: turn2, maxMessages: 10 })).toEqual({ ok: true, version: 1 });
      await store.close();
    });
  });
}

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
    expect(db.query("PRAGMA user_version").get()).toEqual({ user_version: 1 });
    expect(db.query("SELECT * FROM sessions").all()).toEqual([
      { id: "chat-1", version: 1, created_at: 1_700_000_000_000, updated_at: 1_700_000_000_000 },
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
    expect(() => createSqliteSessionStore(path)).toThrow(/newer skiff \(schema 99/);
  });
});
