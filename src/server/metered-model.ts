/**
 * The model as a key's run sees it: before each call the key must still exist and be within its
 * daily budgets; after each call the call's tokens and cost are added to the key's day. It wraps
 * the Model port, so the loop needs no hook: a refusal is a SkiffError thrown by the model, and
 * the run ends with it as the cause, keeping what it did as `partial` (the service answers 429
 * for a spent budget, 401 for a removed key). Journalled steps of a resumed run call no model,
 * so they are not counted twice.
 */
import type { Model } from "../model/model.ts";
import { KeyRevokedError } from "./key-errors.ts";
import type { KeyLimiter } from "./key-limiter.ts";
import type { KeyRing } from "./key-ring.ts";

/** What a metered model needs to know about its run's key. */
export interface MeterOptions {
  readonly keyName: string;
  /** The current keys: a key removed by a reload stops its runs at their next model call. */
  readonly keys: KeyRing;
  readonly limiter: KeyLimiter;
  /** A failure to count a call of a key without budgets: logged, and the run goes on. */
  readonly warn: (error: unknown) => void;
}

/** `model` with the key's budget checked before and its usage counted after every call. */
export function meteredModel(model: Model, options: MeterOptions): Model {
  const { keyName, keys, limiter } = options;
  return {
    name: model.name,
    provider: model.provider,
    async complete(request) {
      const key = keys.get(keyName);
      if (key === undefined) throw new KeyRevokedError(keyName);
      await limiter.checkBudget(key);
      const response = await model.complete(request);
      try {
        await limiter.record(keyName, response.model, response.usage);
      } catch (error) {
        // A budget that silently stopped counting would be no budget: such a key's run stops here.
        if (key.tokensPerDay !== undefined || key.costPerDay !== undefined) throw error;
        options.warn(error);
      }
      return response;
    },
  };
}
