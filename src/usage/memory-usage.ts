/**
 * Keys' counters in this process's memory (`--sessions memory`): each replica counts alone, and a
 * restart starts every count over. Fine for one process and for tests; replicas that must share a
 * key's budget share a database.
 */
import { type DayUsage, type KeyDayUsage, type KeyUsageStore, newestFirst, noUsage, type UsageQuery } from "./usage-store.ts";

/** A usage store in memory. */
export function createMemoryUsageStore(): KeyUsageStore {
  const minutes = new Map<string, { minute: number; count: number }>();
  // key name → day → counters
  const days = new Map<string, Map<string, DayUsage>>();

  return {
    description: "memory",
    async countRequest(key, minute) {
      const window = minutes.get(key);
      if (window === undefined || minute > window.minute) {
        minutes.set(key, { minute, count: 1 });
        return 1;
      }
      window.count++;
      return window.count;
    },
    async add(key, day, delta) {
      let byDay = days.get(key);
      if (byDay === undefined) days.set(key, (byDay = new Map()));
      const before = byDay.get(day) ?? noUsage;
      const after: DayUsage = {
        runs: before.runs + delta.runs,
        inputTokens: before.inputTokens + delta.inputTokens,
        outputTokens: before.outputTokens + delta.outputTokens,
        costUsd: before.costUsd + delta.costUsd,
      };
      byDay.set(day, after);
      return after;
    },
    async day(key, day) {
      return days.get(key)?.get(day) ?? noUsage;
    },
    async list(query: UsageQuery) {
      const rows: KeyDayUsage[] = [];
      const wanted = query.keys === undefined ? undefined : new Set(query.keys);
      for (const [key, byDay] of days) {
        if (wanted !== undefined && !wanted.has(key)) continue;
        for (const [day, usage] of byDay) if (day >= query.fromDay && day <= query.toDay) rows.push({ key, day, ...usage });
      }
      return rows.sort(newestFirst);
    },
    async close() {},
  };
}
