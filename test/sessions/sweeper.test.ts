import { describe, expect, it } from "bun:test";
import { createMemorySessionStore } from "../../src/sessions/memory.ts";
import { type SessionStore, startSessionSweeper, sweepIntervalFor } from "../../src/sessions/index.ts";

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 5_000;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

describe("startSessionSweeper", () => {
  it("deletes sessions idle longer than the TTL at start and on every interval, and keeps the rest", async () => {
    let clock = 0;
    const store = createMemorySessionStore({ now: () => clock });
    await store.commitTurn("old", { expectedVersion: 0, messages: [{ role: "user", content: "x" }], maxMessages: 10 });
    clock = 50_000;
    await store.commitTurn("recent", { expectedVersion: 0, messages: [{ role: "user", content: "y" }], maxMessages: 10 });
    clock = 65_000;
    const swept: number[] = [];
    const sweeper = startSessionSweeper(store, { ttlMs: 60_000, now: () => clock, intervalMs: 10, onSwept: (n) => swept.push(n), onError: (e) => { throw e; } });
    await until(async () => (await store.get("old")) === undefined, "the first sweep");
    expect(await store.get("recent")).toBeDefined();
    clock = 200_000;
    await until(async () => (await store.get("recent")) === undefined, "a later sweep");
    expect(swept).toEqual([1, 1]);
    await sweeper.stop();
  });

  it("works off a backlog in batches, and reports failures without stopping", async () => {
    const store = createMemorySessionStore({ now: () => 0 });
    for (let i = 0; i < 1_234; i++) await store.commitTurn(`s${i}`, { expectedVersion: 0, messages: [], maxMessages: 10 });
    const batches: number[] = [];
    let failures = 0;
    const flaky: SessionStore = {
      ...store,
      async deleteExpired(before, limit) {
        if (failures++ === 0) throw new Error("database away");
        const n = await store.deleteExpired(before, limit);
        batches.push(n);
        return n;
      },
    };
    const errors: unknown[] = [];
    const sweeper = startSessionSweeper(flaky, { ttlMs: 1_000, now: () => 10_000, intervalMs: 10, onError: (e) => errors.push(e) });
    await until(() => batches.includes(234), "the backlog to be worked off");
    await sweeper.stop();
    expect(errors.map(String)).toEqual(["Error: database away"]);
    expect(batches.slice(0, 3)).toEqual([500, 500, 234]);
  });

  it("stop() waits for a sweep in progress, so the store can be closed after it", async () => {
    let finished = false;
    const release = Promise.withResolvers<void>();
    const store = createMemorySessionStore();
    const slow: SessionStore = {
      ...store,
      async deleteExpired() {
        await release.promise;
        finished = true;
        return 0;
      },
    };
    // The first sweep starts at once and holds until released.
    const sweeper = startSessionSweeper(slow, { ttlMs: 1_000, onError: () => {} });
    let stopped = false;
    const stopping = sweeper.stop().then(() => (stopped = true));
    await Promise.resolve();
    expect(stopped).toBe(false);
    release.resolve();
    await stopping;
    expect(finished).toBe(true);
  });

  it("sweeps a tenth of the TTL apart, between 1 s and 5 min", () => {
    expect(sweepIntervalFor(2_000)).toBe(1_000);
    expect(sweepIntervalFor(60_000)).toBe(6_000);
    expect(sweepIntervalFor(30 * 86_400_000)).toBe(300_000);
  });
});
