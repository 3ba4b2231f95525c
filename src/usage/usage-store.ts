/**
 * The port where API keys' counters live: requests per minute and usage per UTC day. Adapters keep
 * them in the database the sessions use (memory-usage.ts, sqlite-usage.ts, postgres-usage.ts), so
 * replicas sharing a Postgres database share every key's counters. Every change is one atomic
 * statement: concurrent replicas add up, they never overwrite each other.
 */
import { SkiffError } from "../errors.ts";

/** One key's counters for one UTC day. */
export interface DayUsage {
  /** Runs started (a run resumed after a crash or an approval is not counted again). */
  readonly runs: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** USD, priced from [pricing]; 0 when nothing was priced. */
  readonly costUsd: number;
}

/** A key's usage on a day, as listed for GET /v1/usage. */
export interface KeyDayUsage extends DayUsage {
  readonly key: string;
  /** `YYYY-MM-DD`, UTC. */
  readonly day: string;
}

/** Which rows to list: days from `fromDay` to `toDay` (inclusive), of `keys` or of every key. */
export interface UsageQuery {
  /** Key names; undefined: every key the store has counted. */
  readonly keys?: readonly string[];
  readonly fromDay: string;
  readonly toDay: string;
}

/** Where keys' counters are kept. */
export interface KeyUsageStore {
  /** Where, for logs (a Postgres URL without its password). */
  readonly description: string;
  /**
   * Counts one request of `key` in clock minute `minute` (minutes since the epoch) and returns
   * how many that minute has had, this one included. A count from an earlier minute starts over;
   * a call naming an earlier minute than the stored one (a replica whose clock is behind) counts in
   * the stored, later minute.
   */
  countRequest(key: string, minute: number): Promise<number>;
  /** Adds `delta` to the key's counters of `day` and returns the day's totals after it. */
  add(key: string, day: string, delta: DayUsage): Promise<DayUsage>;
  /** The key's counters of `day` (zeros when it has none). */
  day(key: string, day: string): Promise<DayUsage>;
  /** Counted days matching `query`, newest day first, then by key name. */
  list(query: UsageQuery): Promise<readonly KeyDayUsage[]>;
  close(): Promise<void>;
}

/** Counters of a day with nothing counted. */
export const noUsage: DayUsage = { runs: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };

/** Newest day first, then by key name in byte order (as the SQL stores sort). */
export function newestFirst(a: KeyDayUsage, b: KeyDayUsage): number {
  if (a.day !== b.day) return a.day < b.day ? 1 : -1;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** The usage store failed or did not answer: the service answers 503 rather than guess a key's usage. */
export class UsageStoreError extends SkiffError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("usage_store", message, { cause: options?.cause });
  }
}
