/**
 * Keys' counters in PostgreSQL (Bun.sql), shared by every replica. Each change is one
 * `INSERT … ON CONFLICT DO UPDATE … RETURNING`: the conflicting row is locked for the update, so
 * replicas adding to one key's day at once serialize on that row and every addition counts, and
 * the totals returned include every addition committed before. Only postgres*.ts files import Bun.sql.
 */
import { connectPostgres } from "../sessions/postgres-connect.ts";
import { type DayUsage, type KeyDayUsage, type KeyUsageStore, noUsage, UsageStoreError } from "./usage-store.ts";

/** Knobs for tests; the defaults suit a replica. */
export interface PostgresUsageStoreOptions {
  /** Connections per replica (default 4): each call holds one for a single statement. */
  readonly maxConnections?: number;
  /** Seconds to wait for a connection to open (default 10). */
  readonly connectTimeoutSec?: number;
}

// Postgres returns bigint columns as text; numbers are read back with Number().
interface UsageRow {
  readonly runs: string | number;
  readonly input_tokens: string | number;
  readonly output_tokens: string | number;
  readonly cost_usd: number;
}

interface ListedRow extends UsageRow {
  readonly key_name: string;
  readonly day: string;
}

/** Connects, migrates the schema (the migrations of the session store) and returns the store. */
export async function createPostgresUsageStore(url: string, options: PostgresUsageStoreOptions = {}): Promise<KeyUsageStore> {
  const { sql, where, guard } = await connectPostgres(url, {
    now: Date.now,
    maxConnections: options.maxConnections ?? 4,
    ...(options.connectTimeoutSec === undefined ? {} : { connectTimeoutSec: options.connectTimeoutSec }),
    name: "usage store",
    fail: (message, cause) => new UsageStoreError(message, { cause }),
    passThrough: (error) => error instanceof UsageStoreError,
  });

  return {
    description: where,
    countRequest: (key, minute) =>
      guard("count a request", async () => {
        const [row] = await sql<{ count: number }[]>`
          INSERT INTO skiff_key_requests (key_name, minute, count) VALUES (${key}, ${minute}::bigint, 1)
          ON CONFLICT (key_name) DO UPDATE SET
            count = CASE WHEN EXCLUDED.minute > skiff_key_requests.minute THEN 1 ELSE skiff_key_requests.count + 1 END,
            minute = GREATEST(skiff_key_requests.minute, EXCLUDED.minute)
          RETURNING count`;
        return row!.count;
      }),
    add: (key, day, delta) =>
      guard("add to a key's usage", async () => {
        const [row] = await sql<UsageRow[]>`
          INSERT INTO skiff_key_usage (key_name, day, runs, input_tokens, output_tokens, cost_usd)
          VALUES (${key}, ${day}, ${delta.runs}::bigint, ${delta.inputTokens}::bigint, ${delta.outputTokens}::bigint, ${delta.costUsd}::float8)
          ON CONFLICT (key_name, day) DO UPDATE SET
            runs = skiff_key_usage.runs + EXCLUDED.runs,
            input_tokens = skiff_key_usage.input_tokens + EXCLUDED.input_tokens,
            output_tokens = skiff_key_usage.output_tokens + EXCLUDED.output_tokens,
            cost_usd = skiff_key_usage.cost_usd + EXCLUDED.cost_usd
          RETURNING runs, input_tokens, output_tokens, cost_usd`;
        return usageOf(row!);
      }),
    day: (key, day) =>
      guard("read a key's usage", async () => {
        const [row] = await sql<UsageRow[]>`SELECT runs, input_tokens, output_tokens, cost_usd FROM skiff_key_usage WHERE key_name = ${key} AND day = ${day}`;
        return row ? usageOf(row) : noUsage;
      }),
    list: (query) =>
      guard("list usage", async () => {
        const keys = query.keys === undefined ? sql`` : sql`AND key_name = ANY(${[...query.keys]}::text[])`;
        const rows = await sql<ListedRow[]>`
          SELECT * FROM skiff_key_usage WHERE day >= ${query.fromDay} AND day <= ${query.toDay} ${keys}
          ORDER BY day DESC, key_name COLLATE "C"`;
        return rows.map(listed);
      }),
    close: () => guard("close", () => sql.close({ timeout: 5 })),
  };
}

function usageOf(row: UsageRow): DayUsage {
  return { runs: Number(row.runs), inputTokens: Number(row.input_tokens), outputTokens: Number(row.output_tokens), costUsd: Number(row.cost_usd) };
}

function listed(row: ListedRow): KeyDayUsage {
  return { key: row.key_name, day: row.day, ...usageOf(row) };
}
