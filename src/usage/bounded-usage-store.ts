/**
 * A usage store whose every operation gives up after server.store_timeout, as the session and run
 * stores do: a frozen database never answers, and a request must not hang on a key's counter.
 */
import { formatDuration } from "../util/duration.ts";
import { withTimeLimit } from "../util/time-limit.ts";
import { type KeyUsageStore, UsageStoreError } from "./usage-store.ts";

/** Wraps `store` so each operation rejects with UsageStoreError after `timeoutMs` (0: no limit). */
export function boundUsageStore(store: KeyUsageStore, timeoutMs: number): KeyUsageStore {
  if (!(timeoutMs > 0)) return store;
  const bounded = <T>(what: string, work: () => Promise<T>): Promise<T> =>
    withTimeLimit(timeoutMs, () => new UsageStoreError(`the usage store (${store.description}) did not ${what} within ${formatDuration(timeoutMs)}`), work);
  return {
    description: store.description,
    countRequest: (key, minute) => bounded("count a request", () => store.countRequest(key, minute)),
    add: (key, day, delta) => bounded("add to a key's usage", () => store.add(key, day, delta)),
    day: (key, day) => bounded("read a key's usage", () => store.day(key, day)),
    list: (query) => bounded("list usage", () => store.list(query)),
    close: () => bounded("close", () => store.close()),
  };
}
