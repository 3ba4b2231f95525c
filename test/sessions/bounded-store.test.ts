import { describe, expect, it } from "bun:test";
import { boundSessionStore, type SessionStore, SessionStoreTimeoutError, type TurnCommit } from "../../src/sessions/index.ts";
import { createMemorySessionStore } from "../../src/sessions/memory.ts";

/** A memory store whose operations can be frozen: while frozen, each call waits until `thaw()`. */
function freezableStore() {
  const inner = createMemorySessionStore();
  let frozen: Promise<void> | undefined;
  let thaw = () => {};
  const commits: TurnCommit[] = [];
  /** How each commit ended, whether or not anyone still waited for it. */
  const commitsDone: Promise<string>[] = [];
  let pings = 0;
  const wait = async () => {
    while (frozen) await frozen;
  };
  const store: SessionStore = {
    ...inner,
    async get(id) {
      await wait();
      return inner.get(id);
    },
    commitTurn(id, commit) {
      commits.push(commit);
      const running = (async () => {
        await wait();
        // As Postgres does: a caller that gave up gets its turn rolled back.
        commit.signal?.throwIfAborted();
        return inner.commitTurn(id, commit);
      })();
      commitsDone.push(running.then(() => "committed", () => "rolled back"));
      return running;
    },
    async ping() {
      pings++;
      await wait();
    },
  };
  return {
    store,
    inner,
    commits,
    commitsDone,
    pings: () => pings,
    freeze() {
      frozen = new Promise((resolve) => (thaw = resolve));
    },
    thaw() {
      frozen = undefined;
      thaw();
    },
  };
}

const turn = { expectedVersion: 0, messages: [{ role: "user" as const, content: "hi" }], maxMessages: 10 };

describe("boundSessionStore", () => {
  it("passes answers through from a store that answers", async () => {
    const { store } = freezableStore();
    const bounded = boundSessionStore(store, { timeoutMs: 5_000 });
    expect(await bounded.commitTurn("s", turn)).toEqual({ ok: true, version: 1 });
    expect((await bounded.get("s"))?.version).toBe(1);
    await bounded.probe();
    expect(bounded.description).toBe("memory");
  });

  it("rejects with SessionStoreTimeoutError when a frozen store does not answer within the limit", async () => {
    const fake = freezableStore();
    const bounded = boundSessionStore(fake.store, { timeoutMs: 50 });
    fake.freeze();
    const error = await bounded.get("s").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionStoreTimeoutError);
    expect((error as SessionStoreTimeoutError).code).toBe("session_store_timeout");
    expect((error as Error).message).toBe("the session store did not read the session within 50ms");
    fake.thaw();
  });

  it("within(ms) bounds each operation by the shorter of the two limits", async () => {
    const fake = freezableStore();
    const bounded = boundSessionStore(fake.store, { timeoutMs: 60_000 });
    fake.freeze();
    const error = await bounded.within(40).get("s").catch((e: unknown) => e);
    expect((error as SessionStoreTimeoutError).timeoutMs).toBe(40);
    const longer = await boundSessionStore(fake.store, { timeoutMs: 30 }).within(60_000).get("s").catch((e: unknown) => e);
    expect((longer as SessionStoreTimeoutError).timeoutMs).toBe(30);
    fake.thaw();
  });

  it("aborts a commit's signal when it gives up, so a store that comes back rolls the turn back", async () => {
    const fake = freezableStore();
    const bounded = boundSessionStore(fake.store, { timeoutMs: 30 });
    fake.freeze();
    const error = await bounded.commitTurn("s", turn).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionStoreTimeoutError);
    expect(fake.commits[0]?.signal?.aborted).toBe(true);
    fake.thaw();
    // The abandoned commit runs on once the store answers, and rolls back: the session was never written.
    expect(await fake.commitsDone[0]).toBe("rolled back");
    expect(await fake.inner.get("s")).toBeUndefined();
    expect(await bounded.commitTurn("s", turn)).toEqual({ ok: true, version: 1 });
  });

  it("with a limit of 0 waits as long as the store takes", async () => {
    const fake = freezableStore();
    const bounded = boundSessionStore(fake.store, { timeoutMs: 0 });
    fake.freeze();
    let settled = false;
    const reading = bounded.get("s").finally(() => (settled = true));
    await Bun.sleep(20);
    expect(settled).toBe(false);
    fake.thaw();
    expect(await reading).toBeUndefined();
  });
});

describe("BoundedSessionStore.probe", () => {
  it("fails at once, without another ping, while a ping older than the limit is unanswered, and recovers when it answers", async () => {
    let clock = 0;
    const fake = freezableStore();
    const bounded = boundSessionStore(fake.store, { timeoutMs: 1_000, now: () => clock });
    fake.freeze();
    const first = bounded.probe().catch((e: unknown) => e);
    clock = 5_000;
    const error = await bounded.probe().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionStoreTimeoutError);
    expect((error as Error).message).toBe("the session store has not answered a probe for 5s (its limit is 1s)");
    expect(fake.pings()).toBe(1);
    fake.thaw();
    expect(await first).toBeUndefined();
    await bounded.probe();
    expect(fake.pings()).toBe(2);
  });

  it("rejects when the ping does not answer within the limit", async () => {
    const fake = freezableStore();
    const bounded = boundSessionStore(fake.store, { timeoutMs: 30 });
    fake.freeze();
    const error = await bounded.probe().catch((e: unknown) => e);
    expect((error as Error).message).toBe("the session store did not answer a probe within 30ms");
    fake.thaw();
  });

  it("passes a failing ping's error on", async () => {
    const store: SessionStore = { ...createMemorySessionStore(), ping: () => Promise.reject(new Error("connection refused")) };
    const error = await boundSessionStore(store, { timeoutMs: 1_000 }).probe().catch((e: unknown) => e);
    expect((error as Error).message).toBe("connection refused");
  });
});
