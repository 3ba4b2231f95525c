/**
 * The HTTP side of key limits: a key's request let in or refused with the right status, and the
 * model, tools and tracer a key's run gets.
 */
import type { Model } from "../model/model.ts";
import type { Tracer } from "../telemetry/tracer.ts";
import type { Tool } from "../tools/tool.ts";
import { UsageStoreError } from "../usage/usage-store.ts";
import type { AppContext } from "./context.ts";
import { KeyLimitError } from "./key-errors.ts";
import type { ApiKey } from "./key-ring.ts";
import { meteredModel } from "./metered-model.ts";
import { errorCodeOf, usageUnavailable } from "./run-errors.ts";

/**
 * Lets a run-starting request of `key` in under the key's limits; the release frees its slot.
 * Refusals are HTTP errors: 429 naming the limit with Retry-After, or 503 when the counters
 * cannot be read (a budget that cannot be checked is not assumed to have room).
 */
export async function admitKey(ctx: AppContext, key: ApiKey, mode: "foreground" | "background"): Promise<() => void> {
  try {
    return await ctx.limiter.admit(key, mode);
  } catch (error) {
    if (error instanceof KeyLimitError) throw error.toHttp();
    if (error instanceof UsageStoreError) throw usageUnavailable(error, "checking this key's limits", "the run did not start; retry in a moment");
    throw error;
  }
}

/** Counts the run in the key's usage; a failure is logged, not the client's problem. */
export async function countKeyRun(ctx: AppContext, key: ApiKey, runId: string): Promise<void> {
  try {
    await ctx.limiter.countRun(key);
  } catch (error) {
    ctx.logger.log("warn", "could not count a run in its key's usage", { key: key.name, run_id: runId, error_code: errorCodeOf(error) });
  }
}

/** What a run started with a key runs with: its metered model, its tools, a tracer naming the key. */
export interface KeyedRun {
  readonly model: Model;
  readonly tools: readonly Tool[];
  readonly tracer: Tracer;
}

/** The model, tools and tracer of a run started with key `keyName` (or of a run without a key). */
export function keyedRun(ctx: AppContext, keyName: string | undefined, runId: string): KeyedRun {
  const { deps } = ctx;
  if (keyName === undefined) return { model: deps.model, tools: deps.tools, tracer: ctx.tracer };
  const model = meteredModel(deps.model, {
    keyName,
    keys: ctx.keys,
    limiter: ctx.limiter,
    warn: (error) => ctx.logger.log("warn", "could not count a model call in its key's usage", { key: keyName, run_id: runId, error_code: errorCodeOf(error) }),
  });
  // A removed key offers nothing: its run stops at the first model call anyway.
  const key = ctx.keys.get(keyName);
  return { model, tools: key === undefined ? [] : (key.tools ?? deps.tools), tracer: keyedTracer(ctx.tracer, keyName) };
}

/** `tracer` with the key's name on the agent span of every run it starts (the loop only starts runs). */
function keyedTracer(tracer: Tracer, keyName: string): Tracer {
  return { startRun: (info) => tracer.startRun({ ...info, keyName }) };
}
