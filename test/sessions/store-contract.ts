/**
 * The SessionStore contract: one suite every store passes (memory and SQLite in stores.test.ts,
 * Postgres in postgres-store.test.ts). A store that passes it can back `skiff serve`.
 */
import { afterEach, describe, expect, it } from "bun:test";
import type { Message } from "../../src/model/messages.ts";
import { SessionExistsError, type SessionStore, type StoredSession } from "../../src/sessions/index.ts";

/** Opens a new, empty store. */
export type OpenStore = (options: { readonly now?: () => number }) => SessionStore | Promise<SessionStore>;

export const turn1: Message[] = [
  { role: "user", content: "what is 2+2?" },
  { role: "assistant", content: null, tool_calls: [{ id: "c1", name: "calc", arguments: '{"expression":"2+2"}' }] },
  { role: "tool", tool_call_id: "c1", content: '{"result":4}' },
  { role: "assistant", content: "4" },
];
export const turn2: Message[] = [
  { role: "user", content: "and 3+3?" },
  { role: "assistant", content: "6" },
];
/** Text that breaks naive quoting: quotes, backslashes, braces, commas, newlines, NUL, emoji, RTL. */
export const awkward: Message[] = [
  { role: "user", content: `it's "quoted" \\ {a,b} \n\t\u0000 ünïcødé 🎉 עברית` },
  { role: "assistant", content: "", tool_calls: [] },
];

async function* each<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}

async function collect(store: SessionStore): Promise<StoredSession[]> {
  const out: StoredSession[] = [];
  for await (const session of store.exportSessions()) out.push(session);
  return out;
}

/** Registers the contract's tests for one store kind. */
export function describeSessionStoreContract(name: string, open: OpenStore): void {
  const opened: SessionStore[] = [];
  const fresh = async (options: { now?: () => number } = {}) => {
    const store = await open(options);
    opened.push(store);
    return store;
  };
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close().catch(() => {});
  });

  describe(`SessionStore contract (${name})`, () => {
    it("answers ping() while open, and fails it once closed", async () => {
      const store = await open({});
      await store.ping();
      await store.close();
      await expect(store.ping()).rejects.toThrow();
    });

    it("writes nothing for a commit whose signal has aborted (its caller stopped waiting), and commits with a live one", async () => {
      const store = await fresh();
      const gaveUp = new AbortController();
      gaveUp.abort(new Error("the caller stopped waiting"));
      await expect(store.commitTurn("a", { expectedVersion: 0, messages: turn2, maxMessages: 100, signal: gaveUp.signal })).rejects.toThrow("the caller stopped waiting");
      expect(await store.get("a")).toBeUndefined();
      const live = new AbortController().signal;
      expect(await store.commitTurn("a", { expectedVersion: 0, messages: turn2, maxMessages: 100, signal: live })).toEqual({ ok: true, version: 1 });
    });

    it("creates a session on its first turn and appends later turns", async () => {
      let clock = 1_700_000_000_000;
      const store = await fresh({ now: () => clock });
      expect(await store.get("a")).toBeUndefined();
      expect(await store.commitTurn("a", { expectedVersion: 0, messages: turn1, maxMessages: 100 })).toEqual({ ok: true, version: 1 });
      clock += 5_000;
      expect(await store.commitTurn("a", { expectedVersion: 1, messages: turn2, maxMessages: 100 })).toEqual({ ok: true, version: 2 });
      expect(await store.get("a")).toEqual({ id: "a", messages: [...turn1, ...turn2], version: 2, createdAt: 1_700_000_000_000, updatedAt: 1_700_000_005_000 });
    });

    it("acknowledges a turn its run already committed (a recovered run) without writing it twice", async () => {
      const store = await fresh();
      expect(await store.commitTurn("a", { expectedVersion: 0, messages: turn1, maxMessages: 100, runId: "run-1" })).toEqual({ ok: true, version: 1 });
      // The run crashed after its commit; recovered, it commits again from the version it started at.
      expect(await store.commitTurn("a", { expectedVersion: 0, messages: turn1, maxMessages: 100, runId: "run-1" })).toEqual({ ok: true, version: 1 });
      expect((await store.get("a"))?.messages).toEqual(turn1);
      // Another run from that version is still refused.
      expect(await store.commitTurn("a", { expectedVersion: 0, messages: turn2, maxMessages: 100, runId: "run-2" })).toEqual({ ok: false, reason: "conflict", version: 1 });
      // A commit without a run id leaves the remembered run alone; a later run replaces it.
      expect(await store.commitTurn("a", { expectedVersion: 1, messages: turn2, maxMessages: 100 })).toEqual({ ok: true, version: 2 });
      expect(await store.commitTurn("a", { expectedVersion: 0, messages: turn1, maxMessages: 100, runId: "run-1" })).toEqual({ ok: true, version: 2 });
      expect(await store.commitTurn("a", { expectedVersion: 2, messages: turn2, maxMessages: 100, runId: "run-3" })).toEqual({ ok: true, version: 3 });
      expect(await store.commitTurn("a", { expectedVersion: 0, messages: turn1, maxMessages: 100, runId: "run-1" })).toEqual({ ok: false, reason: "conflict", version: 3 });
      expect(await store.commitTurn("a", { expectedVersion: 2, messages: turn2, maxMessages: 100, runId: "run-3" })).toEqual({ ok: true, version: 3 });
      expect((await store.get("a"))?.messages).toEqual([...turn1, ...turn2, ...turn2]);
      // A deleted session forgets its runs.
      await store.delete("a");
      expect(await store.commitTurn("a", { expectedVersion: 3, messages: turn2, maxMessages: 100, runId: "run-3" })).toEqual({ ok: false, reason: "conflict", version: 0 });
    });

    it("stores awkward text exactly", async () => {
      const store = await fresh();
      await store.commitTurn("weird.id:1-_", { expectedVersion: 0, messages: awkward, maxMessages: 100 });
      expect((await store.get("weird.id:1-_"))?.messages).toEqual(awkward);
    });

    it("refuses a turn that started from an older version, and writes nothing of it", async () => {
      const store = await fresh();
      await store.commitTurn("a", { expectedVersion: 0, messages: turn1, maxMessages: 100 });
      expect(await store.commitTurn("a", { expectedVersion: 0, messages: turn2, maxMessages: 100 })).toEqual({ ok: false, reason: "conflict", version: 1 });
      expect(await store.commitTurn("a", { expectedVersion: 7, messages: turn2, maxMessages: 100 })).toEqual({ ok: false, reason: "conflict", version: 1 });
      expect(await store.commitTurn("new", { expectedVersion: 3, messages: turn2, maxMessages: 100 })).toEqual({ ok: false, reason: "conflict", version: 0 });
      expect((await store.get("a"))?.messages).toEqual(turn1);
      expect(await store.get("new")).toBeUndefined();
    });

    it("lets exactly one of many concurrent turns on one version through", async () => {
      const store = await fresh();
      await store.commitTurn("a", { expectedVersion: 0, messages: turn1, maxMessages: 100 });
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => store.commitTurn("a", { expectedVersion: 1, messages: [{ role: "user", content: `n${i}` }], maxMessages: 100 })),
      );
      expect(results.filter((r) => r.ok)).toEqual([{ ok: true, version: 2 }]);
      expect(results.filter((r) => !r.ok).every((r) => r.version === 2)).toBe(true);
      expect((await store.get("a"))?.messages).toHaveLength(turn1.length + 1);
    });

    it("drops the oldest whole turns beyond maxMessages", async () => {
      const store = await fresh();
      await store.commitTurn("a", { expectedVersion: 0, messages: turn1, maxMessages: 5 });
      await store.commitTurn("a", { expectedVersion: 1, messages: turn2, maxMessages: 5 });
      expect((await store.get("a"))?.messages).toEqual(turn2);
      await store.commitTurn("a", { expectedVersion: 2, messages: turn1, maxMessages: 6 });
      expect((await store.get("a"))?.messages).toEqual([...turn2, ...turn1]);
    });

    it("deletes a session, and says when there was none", async () => {
      const store = await fresh();
      await store.commitTurn("a", { expectedVersion: 0, messages: turn2, maxMessages: 10 });
      expect(await store.delete("a")).toBe(true);
      expect(await store.get("a")).toBeUndefined();
      expect(await store.delete("a")).toBe(false);
      // A deleted session starts again at version 0.
      expect(await store.commitTurn("a", { expectedVersion: 0, messages: turn2, maxMessages: 10 })).toEqual({ ok: true, version: 1 });
    });

    it("deletes expired sessions oldest first, up to the limit, and keeps the rest", async () => {
      let clock = 1_000_000;
      const store = await fresh({ now: () => clock });
      for (const id of ["old1", "old2", "old3", "fresh"]) {
        await store.commitTurn(id, { expectedVersion: 0, messages: turn2, maxMessages: 10 });
        clock += id === "old3" ? 1_000_000 : 10;
      }
      // A later turn makes old2 recent again.
      await store.commitTurn("old2", { expectedVersion: 1, messages: turn2, maxMessages: 10 });
      const cutoff = clock - 500_000;
      expect(await store.deleteExpired(cutoff, 1)).toBe(1);
      expect(await store.get("old1")).toBeUndefined();
      expect(await store.get("old3")).toBeDefined();
      expect(await store.deleteExpired(cutoff, 100)).toBe(1);
      expect(await store.deleteExpired(cutoff, 100)).toBe(0);
      expect((await collect(store)).map((s) => s.id)).toEqual(["fresh", "old2"]);
    });

    it("exports every session ordered by id, exactly as stored", async () => {
      let clock = 0;
      const store = await fresh({ now: () => clock });
      expect(await collect(store)).toEqual([]);
      clock = 1_700_000_001_000;
      await store.commitTurn("b", { expectedVersion: 0, messages: turn1, maxMessages: 100 });
      clock = 1_700_000_002_000;
      await store.commitTurn("a", { expectedVersion: 0, messages: awkward, maxMessages: 100 });
      clock = 1_700_000_003_000;
      await store.commitTurn("b", { expectedVersion: 1, messages: turn2, maxMessages: 100 });
      expect(await collect(store)).toEqual([await store.get("a"), await store.get("b")] as StoredSession[]);
      expect((await collect(store)).map((s) => [s.id, s.version, s.createdAt, s.updatedAt])).toEqual([
        ["a", 1, 1_700_000_002_000, 1_700_000_002_000],
        ["b", 2, 1_700_000_001_000, 1_700_000_003_000],
      ]);
    });

    it("exports stores larger than one page", async () => {
      const store = await fresh();
      const ids = Array.from({ length: 450 }, (_, i) => `s${String(i).padStart(4, "0")}`);
      await store.importSessions(each(ids.map((id) => ({ id, messages: turn2, version: 1, createdAt: 1, updatedAt: 2 }))), { replace: false });
      const exported = await collect(store);
      expect(exported.map((s) => s.id)).toEqual(ids);
      expect(exported.every((s) => s.messages.length === 2)).toBe(true);
    });

    it("orders the export by id byte by byte, whatever the database's collation", async () => {
      const store = await fresh();
      const ids = ["b", "B", "a", "A:1", "_x", "-y", ".z", "a.b", "a-b", "a_b", "Z9", "z0"];
      await store.importSessions(each(ids.map((id) => ({ id, messages: [], version: 1, createdAt: 1, updatedAt: 1 }))), { replace: false });
      expect((await collect(store)).map((s) => s.id)).toEqual([...ids].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
    });

    it("imports sessions exactly, versions and times kept, and later turns continue from them", async () => {
      let clock = 1_700_000_000_000;
      const source = await fresh({ now: () => (clock += 1_000) });
      await source.commitTurn("x", { expectedVersion: 0, messages: turn1, maxMessages: 100 });
      await source.commitTurn("x", { expectedVersion: 1, messages: turn2, maxMessages: 100 });
      await source.commitTurn("y", { expectedVersion: 0, messages: awkward, maxMessages: 100 });
      const exported = await collect(source);

      const target = await fresh();
      expect(await target.importSessions(each(exported), { replace: false })).toEqual({ imported: 2, replaced: 0 });
      expect(await collect(target)).toEqual(exported);
      expect(await target.commitTurn("x", { expectedVersion: 2, messages: turn2, maxMessages: 100 })).toEqual({ ok: true, version: 3 });
    });

    it("refuses to import over an existing session without replace, and imports nothing", async () => {
      const store = await fresh();
      await store.commitTurn("b", { expectedVersion: 0, messages: turn2, maxMessages: 100 });
      const incoming: StoredSession[] = [
        { id: "a", messages: turn1, version: 1, createdAt: 1, updatedAt: 1 },
        { id: "b", messages: turn1, version: 4, createdAt: 1, updatedAt: 1 },
      ];
      const error = await store.importSessions(each(incoming), { replace: false }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SessionExistsError);
      expect((error as SessionExistsError).sessionId).toBe("b");
      expect(await store.get("a")).toBeUndefined();
      expect((await store.get("b"))?.messages).toEqual(turn2);
    });

    it("replaces existing sessions when asked: the imported history wins, nothing is merged", async () => {
      const store = await fresh();
      await store.commitTurn("b", { expectedVersion: 0, messages: turn2, maxMessages: 100 });
      const incoming: StoredSession[] = [
        { id: "a", messages: turn1, version: 1, createdAt: 1, updatedAt: 1 },
        { id: "b", messages: turn1, version: 4, createdAt: 2, updatedAt: 3 },
      ];
      expect(await store.importSessions(each(incoming), { replace: true })).toEqual({ imported: 2, replaced: 1 });
      expect(await store.get("b")).toEqual(incoming[1]!);
    });

    it("writes nothing when the input fails half way", async () => {
      const store = await fresh();
      async function* failing(): AsyncGenerator<StoredSession> {
        yield { id: "a", messages: turn1, version: 1, createdAt: 1, updatedAt: 1 };
        throw new Error("line 2 is broken");
      }
      await expect(store.importSessions(failing(), { replace: false })).rejects.toThrow("line 2 is broken");
      expect(await store.get("a")).toBeUndefined();
      expect(await collect(store)).toEqual([]);
    });
  });
}
