import { createSemaphore } from "../util/semaphore.ts";
import type { Tool } from "./tool.ts";

/**
 * Wraps a tool so at most `max` of its calls run at once across every run of the process; the
 * rest wait in line (still bounded by their own timeout and the run's signal). This keeps a
 * rate-limited sidecar from being flooded by thousands of concurrent sessions.
 */
export function limitConcurrency(tool: Tool, max: number): Tool {
  const slots = createSemaphore(max);
  return {
    ...tool,
    execute: (args, context) => slots.run(() => tool.execute(args, context), context.signal),
  };
}
