/**
 * The RunStore contract: one suite every run store passes (memory, SQLite and Postgres in
 * run-stores.test.ts). Time moves through a test clock: stores that take an injected `now` follow
 * it exactly; a store that reads the database's clock (Postgres) gets short leases and a wait,
 * bounded by count, until the server's clock has passed them.
 */
import { afterEach, describe, expect, it } from "bun:test";
import { LeaseLostError, type NewRunEvent, type RunRecord, type RunStore, RunStoreError } from "../../src/runs/run-store.ts";
import { type StoreClock, TestClock } from "./test-clock.ts";

/** What an adapter's test file hands the contract. */
export interface RunStoreHarness {
  readonly clock: StoreClock;
  /**
   * A new, empty store reading time from `now` (when it takes a clock), and a way to open more
   * stores on the same storage (a second process on one SQLite file, another replica on one
   * database) where that exists.
   */
  open(now: () => number): Promise<{ readonly store: RunStore; readonly another?: () => Promise<RunStore> }>;
}

/** A lease meant to run out during a test. */
const shortLease = 200;
/** A lease meant to outlast a test. */
const longLease = 600_000;

const event = (type: string, n = 0): NewRunEvent => ({ type, data: JSON.stringify({ type, n, text: `it's "quoted" \\ {a,b} ünïcødé 🎉` }) });

/** Registers the contract's tests for one store kind. */
export function describeRunStoreContract(name: string, harness: RunStoreHarness): void {
  const opened: RunStore[] = [];
  let clock = new TestClock(harness.clock);
  const fresh = async () => {
    clock = new TestClock(harness.clock);
    const { store, another } = await harness.open(clock.now);
    opened.push(store);
    const more = another
      ? async () => {
          const sibling = await another();
          opened.push(sibling);
          return sibling;
        }
      : undefined;
    return { store, another: more };
  };
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close().catch(() => {});
  });

  const queued = (store: RunStore, id: string, events: readonly NewRunEvent[] = [event("run.queued")]) =>
    store.create({ id, sessionId: undefined, background: true, request: `{"input":"${id}"}`, events });
  const claimedBy = (store: RunStore, id: string, owner: string, leaseMs = longLease) =>
    store.create({ id, sessionId: "s1", background: false, request: "{}", owner, leaseMs, events: [event("run.started")] });

  describe(`RunStore contract (${name})`, () => {
    it("creates a queued run with its first events, and reads it back", async () => {
      const { store } = await fresh();
      const created = await queued(store, "r1", [event("run.queued"), event("note", 1)]);
      expect(created).toEqual({
        id: "r1",
        status: "queued",
        sessionId: undefined,
        background: true,
        request: '{"input":"r1"}',
        createdAt: created.createdAt,
        updatedAt: created.createdAt,
        attempt: 0,
        owner: undefined,
        leaseExpiresAt: undefined,
        cancelRequested: false,
        traceId: undefined,
        result: undefined,
        lastSeq: 2,
      });
      if (harness.clock.kind === "injected") expect(created.createdAt).toBe(clock.value);
      expect(await store.get("r1")).toEqual(created);
      expect((await store.events("r1", 0, 10)).map((e) => [e.seq, e.type, e.data, e.at])).toEqual([
        [1, "run.queued", event("run.queued").data, created.createdAt],
        [2, "note", event("note", 1).data, created.createdAt],
      ]);
      expect(await store.get("nope")).toBeUndefined();
      expect(await store.events("nope", 0, 10)).toEqual([]);
      expect(store.description).toBeString();
    });

    it("creates a run already claimed by its replica: running, attempt 1, leased", async () => {
      const { store } = await fresh();
      const run = await claimedBy(store, "r1", "replica-a", 30_000);
      expect(run).toMatchObject({ status: "running", sessionId: "s1", background: false, attempt: 1, owner: "replica-a", lastSeq: 1 });
      expect(run.leaseExpiresAt).toBe(run.createdAt + 30_000);
    });

    it("refuses a second run with the same id, and keeps the first", async () => {
      const { store } = await fresh();
      await queued(store, "r1");
      const error = await queued(store, "r1", [event("x"), event("y")]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RunStoreError);
      expect((error as Error).message).toContain('"r1" already exists');
      expect((await store.get("r1"))?.lastSeq).toBe(1);
      expect(await store.events("r1", 0, 10)).toHaveLength(1);
    });

    it("lists runs newest first, by status, and pages without losing runs created in one millisecond", async () => {
      const { store } = await fresh();
      for (let i = 0; i < 7; i++) {
        await queued(store, `r${i}`);
        // Runs 2..5 share a millisecond where the clock is ours.
        if (i < 2 || i >= 5) await clock.pass(10);
      }
      await claimedBy(store, "busy", "replica-a");
      const all = await store.list({ limit: 100 });
      expect(all.map((r) => r.id)).toEqual(
        [...all].sort((a, b) => b.createdAt - a.createdAt || (b.id < a.id ? -1 : 1)).map((r) => r.id),
      );
      expect(all).toHaveLength(8);
      expect(all[0]!.id).toBe("busy");
      expect((await store.list({ limit: 100, status: "running" })).map((r) => r.id)).toEqual(["busy"]);
      expect(await store.list({ limit: 100, status: "completed" })).toEqual([]);

      const paged: string[] = [];
      let page = await store.list({ limit: 3 });
      for (let i = 0; page.length > 0 && i < 10; i++) {
        paged.push(...page.map((r) => r.id));
        const last = page.at(-1)!;
        page = await store.list({ limit: 3, createdBefore: last.createdAt, beforeId: last.id });
      }
      expect(paged).toEqual(all.map((r) => r.id));
      // createdBefore alone is strict.
      const last = all.at(-1)!;
      expect(await store.list({ limit: 100, createdBefore: last.createdAt })).toEqual([]);
    });

    it("numbers appended events from 1 without gaps, and reads them in windows", async () => {
      const { store } = await fresh();
      await claimedBy(store, "r1", "replica-a");
      expect(await store.append("r1", "replica-a", [event("step", 1), event("step", 2)])).toBe(3);
      expect(await store.append("r1", "replica-a", [])).toBe(3);
      expect(await store.append("r1", "replica-a", [event("step", 3)])).toBe(4);
      const events = await store.events("r1", 0, 100);
      expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
      expect(events.map((e) => e.type)).toEqual(["run.started", "step", "step", "step"]);
      expect(JSON.parse(events[3]!.data)).toEqual({ type: "step", n: 3, text: `it's "quoted" \\ {a,b} ünïcødé 🎉` });
      expect((await store.events("r1", 1, 2)).map((e) => e.seq)).toEqual([2, 3]);
      expect((await store.events("r1", 3, 10)).map((e) => e.seq)).toEqual([4]);
      expect(await store.events("r1", 4, 10)).toEqual([]);
      expect((await store.get("r1"))?.lastSeq).toBe(4);
    });

    it("keeps numbering without gaps under concurrent appends by the lease holder", async () => {
      const { store } = await fresh();
      await claimedBy(store, "r1", "replica-a");
      const last = await Promise.all(Array.from({ length: 20 }, (_, i) => store.append("r1", "replica-a", [event("a", i), event("b", i)])));
      expect(new Set(last).size).toBe(20);
      expect(Math.max(...last)).toBe(41);
      const events = await store.events("r1", 0, 100);
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 41 }, (_, i) => i + 1));
      // Each append's pair stayed together.
      for (let i = 1; i < 41; i += 2) expect(JSON.parse(events[i]!.data).n).toBe(JSON.parse(events[i + 1]!.data).n);
    });

    it("refuses appends, trace ids and finishes from a replica that does not hold the lease, writing nothing", async () => {
      const { store } = await fresh();
      await queued(store, "waiting");
      await claimedBy(store, "r1", "replica-a");
      const lost = (work: Promise<unknown>) => expect(work).rejects.toBeInstanceOf(LeaseLostError);
      await lost(store.append("r1", "replica-b", [event("x")]));
      await lost(store.append("waiting", "replica-a", [event("x")]));
      await lost(store.append("nope", "replica-a", [event("x")]));
      await lost(store.setTraceId("r1", "replica-b", "abc"));
      await lost(store.finish("r1", "replica-b", "completed", "{}", [event("run.completed")]));
      const error = await store.append("r1", "replica-b", []).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "lease_lost", runId: "r1" });
      expect(await store.get("r1")).toMatchObject({ status: "running", owner: "replica-a", lastSeq: 1, traceId: undefined });
      expect(await store.events("r1", 0, 10)).toHaveLength(1);
      expect((await store.get("waiting"))?.lastSeq).toBe(1);
    });

    it("refuses appends once the lease has expired, even before anyone claims the run", async () => {
      const { store } = await fresh();
      await claimedBy(store, "r1", "replica-a", shortLease);
      await clock.pass(shortLease + 1);
      await expect(store.append("r1", "replica-a", [event("late")])).rejects.toBeInstanceOf(LeaseLostError);
      await expect(store.setTraceId("r1", "replica-a", "abc")).rejects.toBeInstanceOf(LeaseLostError);
      await expect(store.finish("r1", "replica-a", "completed", "{}", [])).rejects.toBeInstanceOf(LeaseLostError);
      expect((await store.renew("replica-a", ["r1"], longLease)).renewed).toEqual([]);
      expect((await store.get("r1"))?.lastSeq).toBe(1);
    });

    it("records the trace id for the lease holder", async () => {
      const { store } = await fresh();
      await claimedBy(store, "r1", "replica-a");
      await store.setTraceId("r1", "replica-a", "4bf92f3577b34da6a3ce929d0e0e4736");
      expect((await store.get("r1"))?.traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    });

    it("finishes a run with its result and final events, gives up the lease, and refuses writes after", async () => {
      const { store } = await fresh();
      const started = await claimedBy(store, "r1", "replica-a");
      await store.append("r1", "replica-a", [event("step")]);
      await clock.pass(5);
      expect(await store.finish("r1", "replica-a", "completed", '{"output":"4"}', [event("run.completed")])).toBe(3);
      const done = (await store.get("r1"))!;
      expect(done).toMatchObject({ status: "completed", result: '{"output":"4"}', owner: undefined, leaseExpiresAt: undefined, lastSeq: 3, attempt: 1 });
      expect(done.updatedAt).toBeGreaterThan(started.updatedAt);
      expect((await store.events("r1", 2, 10)).map((e) => e.type)).toEqual(["run.completed"]);
      await expect(store.append("r1", "replica-a", [event("after")])).rejects.toBeInstanceOf(LeaseLostError);
      await expect(store.finish("r1", "replica-a", "failed", "{}", [])).rejects.toBeInstanceOf(LeaseLostError);
      expect(await store.claim("replica-b", longLease, 10)).toEqual([]);
      expect((await store.get("r1"))?.status).toBe("completed");
    });

    it("pauses a run in requires_action: lease given up, never claimed, moved on only by a matching advance", async () => {
      const { store } = await fresh();
      await claimedBy(store, "r1", "replica-a");
      const paused = await store.finish("r1", "replica-a", "requires_action", '{"pending_approvals":[1]}', [event("run.requires_action")]);
      expect(paused).toBe(2);
      expect(await store.get("r1")).toMatchObject({ status: "requires_action", owner: undefined, leaseExpiresAt: undefined, result: '{"pending_approvals":[1]}' });
      await clock.pass(shortLease * 2);
      expect(await store.claim("replica-b", longLease, 10)).toEqual([]);
      // A stale reader (wrong last seq, wrong status) changes nothing.
      expect(await store.advance("r1", { status: "requires_action", lastSeq: 1 }, { status: "queued", result: undefined, events: [event("x")] })).toBeUndefined();
      expect(await store.advance("r1", { status: "running", lastSeq: 2 }, { status: "queued", result: undefined, events: [event("x")] })).toBeUndefined();
      expect(await store.advance("nope", { status: "requires_action", lastSeq: 2 }, { status: "queued", result: undefined, events: [] })).toBeUndefined();
      // One decision of two: still waiting, result replaced.
      expect(await store.advance("r1", { status: "requires_action", lastSeq: 2 }, { status: "requires_action", result: '{"pending_approvals":[2]}', events: [event("approval.decided")] })).toBe(3);
      expect(await store.advance("r1", { status: "requires_action", lastSeq: 2 }, { status: "queued", result: undefined, events: [event("late")] })).toBeUndefined();
      expect(await store.advance("r1", { status: "requires_action", lastSeq: 3 }, { status: "queued", result: undefined, events: [event("approval.decided", 2)] })).toBe(4);
      const queuedAgain = (await store.get("r1"))!;
      expect(queuedAgain.status).toBe("queued");
      expect(queuedAgain.result).toBeUndefined();
      expect((await store.events("r1", 0, 10)).map((e) => e.type)).toEqual(["run.started", "run.requires_action", "approval.decided", "approval.decided"]);
      const [resumed] = await store.claim("replica-b", longLease, 10);
      expect(resumed).toMatchObject({ id: "r1", status: "running", owner: "replica-b", attempt: 2 });
    });

    it("cancels a run waiting in requires_action at once", async () => {
      const { store } = await fresh();
      await claimedBy(store, "r1", "replica-a");
      await store.finish("r1", "replica-a", "requires_action", "{}", []);
      expect(await store.requestCancel("r1", '{"status":"cancelled"}', [event("run.cancelled")])).toMatchObject({ status: "cancelled" });
    });

    it("claims queued runs oldest first, up to the limit, and not again while leased", async () => {
      const { store } = await fresh();
      for (const id of ["q1", "q2", "q3"]) {
        await queued(store, id);
        await clock.pass(10);
      }
      await claimedBy(store, "mine", "replica-a");
      const first = await store.claim("replica-b", 30_000, 2);
      expect(first.map((r) => r.id)).toEqual(["q1", "q2"]);
      for (const run of first) {
        expect(run).toMatchObject({ status: "running", owner: "replica-b", attempt: 1 });
        expect(run.leaseExpiresAt).toBe(run.updatedAt + 30_000);
      }
      expect(await store.get("q1")).toEqual(first[0]!);
      expect((await store.claim("replica-c", 30_000, 10)).map((r) => r.id)).toEqual(["q3"]);
      expect(await store.claim("replica-c", 30_000, 10)).toEqual([]);
    });

    it("claims runs whose lease expired, with the next attempt, and fences off the old owner", async () => {
      const { store } = await fresh();
      await claimedBy(store, "r1", "replica-a", shortLease);
      await store.append("r1", "replica-a", [event("step", 1)]);
      expect(await store.claim("replica-b", longLease, 10)).toEqual([]);
      await clock.pass(shortLease + 1);
      const [taken] = await store.claim("replica-b", longLease, 10);
      expect(taken).toMatchObject({ id: "r1", status: "running", owner: "replica-b", attempt: 2, lastSeq: 2 });
      await expect(store.append("r1", "replica-a", [event("stale")])).rejects.toBeInstanceOf(LeaseLostError);
      expect((await store.renew("replica-a", ["r1"], longLease)).renewed).toEqual([]);
      expect(await store.append("r1", "replica-b", [event("step", 2)])).toBe(3);
    });

    it("never hands one run to two of many concurrent claimers", async () => {
      const { store, another } = await fresh();
      const stores = [store, ...(another ? [await another(), await another()] : [])];
      const runs = 50;
      for (let i = 0; i < runs; i++) await queued(store, `r${String(i).padStart(2, "0")}`);
      const claimers = 10;
      const taken = await Promise.all(
        Array.from({ length: claimers }, async (_, c) => {
          const mine: RunRecord[] = [];
          // Bounded: every round claims at least one run until none is left.
          for (let round = 0; round <= runs; round++) {
            const got = await stores[c % stores.length]!.claim(`replica-${c}`, longLease, 3);
            if (got.length === 0) break;
            mine.push(...got);
          }
          return mine;
        }),
      );
      const ids = taken.flat().map((r) => r.id);
      expect(ids).toHaveLength(runs);
      expect(new Set(ids).size).toBe(runs);
      expect(taken.flat().every((r) => r.attempt === 1)).toBe(true);
      for (const [c, mine] of taken.entries()) {
        for (const run of mine) expect((await store.get(run.id))?.owner).toBe(`replica-${c}`);
      }
    });

    it("renews the leases it holds, reports cancel requests, and drops the ones it lost", async () => {
      const { store } = await fresh();
      await claimedBy(store, "kept", "replica-a");
      await claimedBy(store, "cancelled", "replica-a");
      await claimedBy(store, "lost", "replica-a", shortLease);
      await claimedBy(store, "finished", "replica-a");
      await claimedBy(store, "theirs", "replica-b");
      await store.finish("finished", "replica-a", "completed", "{}", []);
      await store.requestCancel("cancelled", "{}", []);
      await clock.pass(shortLease + 1);
      await store.claim("replica-b", longLease, 10);
      const before = (await store.get("kept"))!;

      const result = await store.renew("replica-a", ["kept", "cancelled", "lost", "finished", "theirs", "nope"], 900_000);
      expect([...result.renewed].sort()).toEqual(["cancelled", "kept"]);
      expect(result.cancelRequested).toEqual(["cancelled"]);
      const after = (await store.get("kept"))!;
      expect(after.leaseExpiresAt!).toBeGreaterThan(before.leaseExpiresAt!);
      expect(after.updatedAt).toBe(before.updatedAt);
      expect(await store.get("lost")).toMatchObject({ owner: "replica-b", attempt: 2 });
      expect((await store.renew("replica-a", [], longLease)).renewed).toEqual([]);
    });

    it("cancels a queued run at once, with its events", async () => {
      const { store } = await fresh();
      await queued(store, "r1");
      const cancelled = await store.requestCancel("r1", '{"error":"cancelled"}', [event("run.cancelled")]);
      expect(cancelled).toMatchObject({ id: "r1", status: "cancelled", result: '{"error":"cancelled"}', cancelRequested: true, lastSeq: 2, owner: undefined });
      expect(await store.get("r1")).toEqual(cancelled!);
      expect((await store.events("r1", 0, 10)).map((e) => e.type)).toEqual(["run.queued", "run.cancelled"]);
      expect(await store.claim("replica-a", longLease, 10)).toEqual([]);
    });

    it("only flags a running run for its executor, which sees it at renewal and finishes it", async () => {
      const { store } = await fresh();
      await claimedBy(store, "r1", "replica-a");
      const flagged = await store.requestCancel("r1", '{"error":"cancelled"}', [event("run.cancelled")]);
      expect(flagged).toMatchObject({ status: "running", cancelRequested: true, owner: "replica-a", lastSeq: 1 });
      expect(await store.events("r1", 0, 10)).toHaveLength(1);
      // Asking twice changes nothing more.
      expect(await store.requestCancel("r1", "{}", [event("again")])).toEqual(flagged!);
      expect((await store.renew("replica-a", ["r1"], longLease)).cancelRequested).toEqual(["r1"]);
      expect(await store.finish("r1", "replica-a", "cancelled", '{"error":"cancelled"}', [event("run.cancelled")])).toBe(2);
      expect((await store.get("r1"))?.status).toBe("cancelled");
    });

    it("cancels at once a run whose executor's lease ran out", async () => {
      const { store } = await fresh();
      await claimedBy(store, "r1", "replica-a", shortLease);
      await clock.pass(shortLease + 1);
      const cancelled = await store.requestCancel("r1", "{}", [event("run.cancelled")]);
      expect(cancelled).toMatchObject({ status: "cancelled", owner: undefined, lastSeq: 2 });
      await expect(store.append("r1", "replica-a", [event("late")])).rejects.toBeInstanceOf(LeaseLostError);
    });

    it("leaves a finished run as it is when asked to cancel it, and knows no unknown id", async () => {
      const { store } = await fresh();
      await claimedBy(store, "r1", "replica-a");
      await store.finish("r1", "replica-a", "completed", '{"output":"ok"}', [event("run.completed")]);
      const done = await store.get("r1");
      expect(await store.requestCancel("r1", "{}", [event("run.cancelled")])).toEqual(done!);
      expect(await store.get("r1")).toEqual(done!);
      expect(await store.events("r1", 0, 10)).toHaveLength(2);
      expect(await store.requestCancel("nope", "{}", [])).toBeUndefined();
    });

    it("claims a run whose executor died after a cancel request, flag and all, so the claimer finishes it", async () => {
      const { store } = await fresh();
      await claimedBy(store, "r1", "replica-a", shortLease);
      await store.requestCancel("r1", "{}", []);
      await clock.pass(shortLease + 1);
      const [taken] = await store.claim("replica-b", longLease, 1);
      expect(taken).toMatchObject({ id: "r1", owner: "replica-b", cancelRequested: true, attempt: 2 });
    });

    it("makes a released run claimable at once, and ignores a release by anyone else", async () => {
      const { store } = await fresh();
      await claimedBy(store, "r1", "replica-a");
      await store.release("r1", "replica-b");
      expect((await store.get("r1"))?.owner).toBe("replica-a");
      await store.release("r1", "replica-a");
      expect(await store.get("r1")).toMatchObject({ status: "running", owner: undefined, leaseExpiresAt: undefined, attempt: 1 });
      await expect(store.append("r1", "replica-a", [event("x")])).rejects.toBeInstanceOf(LeaseLostError);
      const [taken] = await store.claim("replica-b", longLease, 10);
      expect(taken).toMatchObject({ id: "r1", owner: "replica-b", attempt: 2 });
    });

    it("deletes finished runs last updated before the cutoff, with their events, up to the limit", async () => {
      const { store } = await fresh();
      await queued(store, "waiting");
      await claimedBy(store, "running", "replica-a");
      for (const id of ["old1", "old2", "new"]) {
        await claimedBy(store, id, "replica-a");
        await store.finish(id, "replica-a", "completed", "{}", [event("run.completed")]);
        await clock.pass(10);
      }
      const cutoff = (await store.get("new"))!.updatedAt;
      expect(await store.deleteFinished(cutoff, 1)).toBe(1);
      expect(await store.get("old1")).toBeUndefined();
      expect(await store.events("old1", 0, 10)).toEqual([]);
      expect(await store.deleteFinished(cutoff, 10)).toBe(1);
      expect(await store.deleteFinished(cutoff, 10)).toBe(0);
      await clock.pass(10);
      expect(await store.deleteFinished(Number.MAX_SAFE_INTEGER, 10)).toBe(1);
      expect((await store.list({ limit: 10 })).map((r) => r.id).sort()).toEqual(["running", "waiting"]);
      expect(await store.events("running", 0, 10)).toHaveLength(1);
    });

    it("shares runs between stores opened on the same storage", async () => {
      const { store, another } = await fresh();
      if (!another) {
        expect(store.durable).toBe(false);
        return;
      }
      expect(store.durable).toBe(true);
      const other = await another();
      await queued(store, "r1");
      const [taken] = await other.claim("replica-b", longLease, 1);
      expect(taken?.id).toBe("r1");
      await other.append("r1", "replica-b", [event("step")]);
      expect((await store.events("r1", 0, 10)).map((e) => e.type)).toEqual(["run.queued", "step"]);
      expect(await store.requestCancel("r1", "{}", [])).toMatchObject({ cancelRequested: true, owner: "replica-b" });
      expect((await other.renew("replica-b", ["r1"], longLease)).cancelRequested).toEqual(["r1"]);
    });
  });
}
