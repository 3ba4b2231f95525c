/**
 * Enforces each key's limits. Where each count lives, and why:
 *
 * - `requests_per_minute` and the daily budgets (`tokens_per_day`, `cost_per_day`) live in the
 *   usage store, the database the sessions use: replicas sharing a Postgres database share them.
 * - `max_concurrent` counts runs in this process: a run in flight is a slot of this replica, and a
 *   counter in the database would stay taken when a replica dies mid-run.
 *
 * Daily budgets are checked before every model call and counted after it (not reserved before
 * it: a call's tokens are not known until it answers, and reserving a guess would refuse keys
 * with budget left). So a key can exceed its budget by the model calls that were already under
 * way when its budget ran out, on all replicas together, and never by more.
 */
import type { PriceFunction } from "../agent/index.ts";
import type { Usage } from "../model/messages.ts";
import { type DayUsage, type KeyUsageStore, noUsage } from "../usage/usage-store.ts";
import { clockMinute, secondsToNextMinute, secondsToNextUtcDay, utcDay } from "../usage/utc-day.ts";
import { KeyLimitError, resetsIn } from "./key-errors.ts";
import type { ApiKey } from "./key-ring.ts";

/** What the limiter needs. */
export interface KeyLimiterOptions {
  /** Keys' counters, bounded by server.store_timeout. */
  readonly store: KeyUsageStore;
  /** Epoch ms: the clock minutes and UTC days are read from it. */
  readonly now: () => number;
  /** Prices model calls for `cost_per_day` and the usage report. */
  readonly price?: PriceFunction;
}

/** Per-key admission and accounting, shared by every request and run of the app. */
export class KeyLimiter {
  readonly store: KeyUsageStore;
  readonly #now: () => number;
  readonly #price: PriceFunction | undefined;
  readonly #inFlight = new Map<string, number>();

  constructor(options: KeyLimiterOptions) {
    this.store = options.store;
    this.#now = options.now;
    this.#price = options.price;
  }

  /** True when model calls are priced, so costs are counted. */
  get priced(): boolean {
    return this.#price !== undefined;
  }

  /**
   * Lets a run-starting request of `key` in, or throws KeyLimitError (429) naming the limit, or
   * UsageStoreError when the counters cannot be read. A foreground run takes a slot at once (so
   * concurrent requests of one key in this process cannot both take the last one); `release`
   * frees it. A background request only checks that a slot is free now: its run takes one
   * when it executes (`hold`).
   */
  async admit(key: ApiKey, mode: "foreground" | "background"): Promise<() => void> {
    const inFlight = this.#inFlight.get(key.name) ?? 0;
    if (key.maxConcurrent !== undefined && inFlight >= key.maxConcurrent) {
      throw new KeyLimitError("max_concurrent", `key "${key.name}" has ${inFlight} runs in flight on this server, its max_concurrent; retry when one has finished`, 1);
    }
    const release = mode === "foreground" ? this.hold(key.name) : () => {};
    try {
      if (key.requestsPerMinute !== undefined) {
        const now = this.#now();
        const count = await this.store.countRequest(key.name, clockMinute(now));
        if (count > key.requestsPerMinute) {
          const wait = secondsToNextMinute(now);
          throw new KeyLimitError(
            "requests_per_minute",
            `key "${key.name}" has sent ${key.requestsPerMinute} requests this minute, its requests_per_minute; retry in ${resetsIn(wait)}`,
            wait,
          );
        }
      }
      await this.checkBudget(key);
      return release;
    } catch (error) {
      release();
      throw error;
    }
  }

  /** Counts one run started by `key` today (for GET /v1/usage). */
  async countRun(key: ApiKey): Promise<void> {
    await this.store.add(key.name, utcDay(this.#now()), { ...noUsage, runs: 1 });
  }

  /** Takes a slot of `key` in this process, without a check (a background run executing); the release frees it. */
  hold(keyName: string): () => void {
    this.#inFlight.set(keyName, (this.#inFlight.get(keyName) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#inFlight.get(keyName) ?? 1) - 1;
      if (left <= 0) this.#inFlight.delete(keyName);
      else this.#inFlight.set(keyName, left);
    };
  }

  /** Throws KeyLimitError when the key has spent a daily budget (reads the store only when it has one). */
  async checkBudget(key: ApiKey): Promise<void> {
    if (key.tokensPerDay === undefined && key.costPerDay === undefined) return;
    const now = this.#now();
    const today = await this.store.day(key.name, utcDay(now));
    const spent = overBudget(key, today);
    if (spent === undefined) return;
    const wait = secondsToNextUtcDay(now);
    throw new KeyLimitError(spent.limit, `key "${key.name}" has used its ${spent.limit} (${spent.detail}); it resets at 00:00 UTC, in ${resetsIn(wait)}`, wait);
  }

  /** Adds one model call's tokens and cost to the key's day; the day's totals after it. */
  async record(keyName: string, model: string, usage: Usage): Promise<DayUsage> {
    const cost = this.#price?.(model, usage) ?? 0;
    return await this.store.add(keyName, utcDay(this.#now()), { runs: 0, inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, costUsd: cost });
  }
}

/** Which daily budget `today` has reached, with the numbers for the message. */
function overBudget(key: ApiKey, today: DayUsage): { limit: "tokens_per_day" | "cost_per_day"; detail: string } | undefined {
  const tokens = today.inputTokens + today.outputTokens;
  if (key.tokensPerDay !== undefined && tokens >= key.tokensPerDay) {
    return { limit: "tokens_per_day", detail: `${key.tokensPerDay} tokens; ${tokens} used today, UTC` };
  }
  if (key.costPerDay !== undefined && today.costUsd >= key.costPerDay) {
    return { limit: "cost_per_day", detail: `$${key.costPerDay}; $${today.costUsd.toFixed(4)} spent today, UTC` };
  }
  return undefined;
}
