/**
 * Keys' counters in the SQLite file the sessions use (bun:sqlite), on a connection of their own.
 * Each change is a single UPSERT statement, atomic on its own: two processes on one file (an old
 * and a new `skiff serve` during a restart) add up. Only sqlite*.ts files in src/ import bun:sqlite.
 */
import { openSqliteFile } from "../sessions/sqlite-file.ts";
import { type DayUsage, type KeyDayUsage, type KeyUsageStore, newestFirst, noUsage, UsageStoreError } from "./usage-store.ts";

interface UsageRow {
  readonly runs: number;
  readonly input_tokens: number;
  readonly output_tokens: number;
  readonly cost_usd: number;
}

interface ListedRow extends UsageRow {
  readonly key_name: string;
  readonly day: string;
}

/** Opens (creating and migrating when needed) the usage counters in the SQLite file at `path`. */
export function createSqliteUsageStore(path: string): KeyUsageStore {
  const description = `sqlite:${path}`;
  const db = openSqliteFile(path, { now: Date.now, name: `usage store ${description}`, fail: (message, cause) => new UsageStoreError(message, { cause }) });

  // A count from an earlier minute starts over; an earlier minute than the stored one counts in the stored one.
  const countOne = db.query<{ count: number }, [string, number]>(
    `INSERT INTO key_requests (key_name, minute, count) VALUES (?, ?, 1)
     ON CONFLICT (key_name) DO UPDATE SET
       count = CASE WHEN excluded.minute > key_requests.minute THEN 1 ELSE key_requests.count + 1 END,
       minute = MAX(key_requests.minute, excluded.minute)
     RETURNING count`,
  );
  const addOne = db.query<UsageRow, [string, string, number, number, number, number]>(
    `INSERT INTO key_usage (key_name, day, runs, input_tokens, output_tokens, cost_usd) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (key_name, day) DO UPDATE SET
       runs = key_usage.runs + excluded.runs,
       input_tokens = key_usage.input_tokens + excluded.input_tokens,
       output_tokens = key_usage.output_tokens + excluded.output_tokens,
       cost_usd = key_usage.cost_usd + excluded.cost_usd
     RETURNING runs, input_tokens, output_tokens, cost_usd`,
  );
  const selectDay = db.query<UsageRow, [string, string]>("SELECT runs, input_tokens, output_tokens, cost_usd FROM key_usage WHERE key_name = ? AND day = ?");
  const selectAll = db.query<ListedRow, [string, string]>(
    "SELECT * FROM key_usage WHERE day >= ? AND day <= ? ORDER BY day DESC, key_name",
  );
  const selectKey = db.query<ListedRow, [string, string, string]>(
    "SELECT * FROM key_usage WHERE key_name = ? AND day >= ? AND day <= ? ORDER BY day DESC",
  );

  const guard = <T>(what: string, work: () => T): T => {
    try {
      return work();
    } catch (error) {
      throw new UsageStoreError(`could not ${what} in the usage store ${description}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  };

  return {
    description,
    async countRequest(key, minute) {
      return guard("count a request", () => countOne.get(key, minute)!.count);
    },
    async add(key, day, delta) {
      return guard("add to a key's usage", () => usageOf(addOne.get(key, day, delta.runs, delta.inputTokens, delta.outputTokens, delta.costUsd)!));
    },
    async day(key, day) {
      return guard("read a key's usage", () => {
        const row = selectDay.get(key, day);
        return row ? usageOf(row) : noUsage;
      });
    },
    async list(query) {
      return guard("list usage", () => {
        if (query.keys === undefined) return selectAll.all(query.fromDay, query.toDay).map(listed);
        const rows = query.keys.flatMap((key) => selectKey.all(key, query.fromDay, query.toDay).map(listed));
        return rows.sort(newestFirst);
      });
    },
    async close() {
      guard("close", () => db.close());
    },
  };
}

function usageOf(row: UsageRow): DayUsage {
  return { runs: row.runs, inputTokens: row.input_tokens, outputTokens: row.output_tokens, costUsd: row.cost_usd };
}

function listed(row: ListedRow): KeyDayUsage {
  return { key: row.key_name, day: row.day, ...usageOf(row) };
}

