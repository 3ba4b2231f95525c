import { createSemaphore } from "../util/semaphore.ts";
import type { ToolCall } from "../model/messages.ts";

/**
 * Runs a step's tool calls as concurrently as allowed: at most `maxParallel` at once, and calls
 * for which `isSerial` holds (tools marked `parallel = false`, such as mutating ones) one after
 * another in the model's order. Results come back in the model's order.
 */
export function scheduleToolCalls<T>(
  calls: readonly ToolCall[],
  options: { readonly maxParallel: number; readonly isSerial: (call: ToolCall) => boolean },
  run: (call: ToolCall) => Promise<T>,
): Promise<T[]> {
  // The usual step (fewer calls than max_parallel, none serial) needs no line to wait in: every
  // call starts now, with no semaphore and no wrapper closure per call (10,000 runs at a time).
  if (calls.length <= options.maxParallel && !calls.some(options.isSerial)) return Promise.all(calls.map((call) => run(call)));
  const slots = createSemaphore(Math.max(1, options.maxParallel));
  let serialChain: Promise<unknown> = Promise.resolve();
  return Promise.all(
    calls.map((call) => {
      if (!options.isSerial(call)) return slots.run(() => run(call));
      // Each serial call starts only after the previous serial call has settled.
      const previous = serialChain;
      const mine = previous.then(() => slots.run(() => run(call)));
      serialChain = mine.catch(() => {});
      return mine;
    }),
  );
}
