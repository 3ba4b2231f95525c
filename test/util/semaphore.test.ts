import { describe, expect, it } from "bun:test";
import { createSemaphore } from "../../src/util/semaphore.ts";

describe("createSemaphore", () => {
  it("never runs more than its limit and serves waiters in order", async () => {
    const slots = createSemaphore(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        slots.run(async () => {
          running++;
          peak = Math.max(peak, running);
          order.push(i);
          await Bun.sleep(5);
          running--;
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(slots.active).toBe(0);
  });

  it("a waiter whose signal aborts leaves the line and never runs", async () => {
    const slots = createSemaphore(1);
    const ran: string[] = [];
    const first = slots.run(async () => {
      ran.push("first");
      await Bun.sleep(50);
    });
    const controller = new AbortController();
    const second = slots.run(async () => void ran.push("second"), controller.signal);
    controller.abort(new Error("gone"));
    await expect(second).rejects.toThrow("gone");
    await first;
    expect(ran).toEqual(["first"]);
    expect(slots.queued).toBe(0);
    expect(slots.active).toBe(0);
  });

  it("releases a slot when the work throws", async () => {
    const slots = createSemaphore(1);
    await expect(slots.run(async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await slots.run(async () => "next")).toBe("next");
  });

  it("tryAcquire takes a free slot without a promise; release hands it to the first waiter", async () => {
    const slots = createSemaphore(1);
    expect(slots.tryAcquire()).toBe(true);
    expect(slots.tryAcquire()).toBe(false);
    const order: string[] = [];
    const controller = new AbortController();
    const cancelled = slots.acquire(controller.signal).then(() => order.push("cancelled"));
    const waiting = slots.acquire().then(() => order.push("waiter"));
    controller.abort(new Error("left the line"));
    await expect(cancelled).rejects.toThrow("left the line");
    expect(slots.queued).toBe(1);
    slots.release();
    await waiting;
    expect(order).toEqual(["waiter"]);
    expect(slots.active).toBe(1); // passed straight to the waiter
    slots.release();
    expect(slots.active).toBe(0);
    expect(slots.tryAcquire()).toBe(true);
  });
});
