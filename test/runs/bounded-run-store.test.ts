import { describe, expect, it } from "bun:test";
import { boundRunStore } from "../../src/runs/bounded-run-store.ts";
import { createMemoryRunStore } from "../../src/runs/memory-runs.ts";
import { type RunStore, RunStoreError } from "../../src/runs/run-store.ts";

/** A store that answers like `inner` until frozen, then never answers. */
function freezable(inner: RunStore) {
  let frozen = false;
  const store = new Proxy(inner, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => (frozen ? new Promise(() => {}) : (value as (...a: unknown[]) => unknown).apply(target, args));
    },
  });
  return { store, freeze: () => (frozen = true) };
}

describe("boundRunStore", () => {
  it("passes answers through, and fails a call the store does not answer within the limit with RunStoreError", async () => {
    const { store, freeze } = freezable(createMemoryRunStore());
    const bounded = boundRunStore(store, 50);
    await bounded.create({ id: "r1", sessionId: undefined, background: true, request: "{}" });
    expect((await bounded.get("r1"))?.status).toBe("queued");
    freeze();
    const error = await bounded.get("r1").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunStoreError);
    expect((error as Error).message).toBe("the run store (memory) did not read the run within 50ms");
    expect(await bounded.append("r1", "me", [{ type: "x", data: "{}" }]).catch((e: unknown) => (e as Error).message)).toContain("did not write the run's journal");
  });

  it("leaves the store as it is with no limit", () => {
    const store = createMemoryRunStore();
    expect(boundRunStore(store, 0)).toBe(store);
  });
});
