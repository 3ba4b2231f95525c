/**
 * Runs and their events in PostgreSQL (Bun.sql), shared by every replica. Only postgres*.ts files
 * import Bun.sql.
 *
 * Time comes from the database's clock (`statement_timestamp()`), not the replica's: leases are
 * compared across replicas, and a replica whose clock runs a minute fast must not see everyone
 * else's leases as expired. Every write that fences is a single statement: the run row's UPDATE
 * checks owner, status and lease and moves `last_seq`, and a data-modifying CTE inserts the events
 * numbered from it, so numbering and fencing are one atomic step and one round trip.
 */
import { SQL } from "bun";
import { connectPostgres } from "../sessions/postgres-connect.ts";
import { eventFromRow, initialLeaseMs, runExistsError, runFromRow, type RunEventRow, type RunRow } from "./run-row.ts";
import { LeaseLostError, type NewRunEvent, type RunListQuery, type RunRecord, type RunStore, RunStoreError } from "./run-store.ts";

/** Knobs for tests and tuning; the defaults suit a replica. */
export interface PostgresRunStoreOptions {
  /** Connections per replica (default 10): every call holds one for a single statement or a short transaction. */
  readonly maxConnections?: number;
  /** Seconds to wait for a connection to open (default 10). */
  readonly connectTimeoutSec?: number;
}

/**
 * Connects, migrates the schema (the same migrations as the session store, refusing a schema newer
 * than this binary knows) and returns the store. The URL's password never appears in the
 * description or in errors.
 */
export async function createPostgresRunStore(url: string, options: PostgresRunStoreOptions = {}): Promise<RunStore> {
  const { sql, where, guard } = await connectPostgres(url, {
    now: Date.now,
    maxConnections: options.maxConnections ?? 10,
    ...(options.connectTimeoutSec === undefined ? {} : { connectTimeoutSec: options.connectTimeoutSec }),
    name: "run store",
    fail: (message, cause) => new RunStoreError(message, { cause }),
    passThrough: (error) => error instanceof LeaseLostError || error instanceof RunStoreError,
  });
  // Epoch ms on the database's clock, fixed for the statement.
  const nowMs = sql`(extract(epoch from statement_timestamp()) * 1000)::bigint`;
  const record = (row: RunRow) => runFromRow(row, where);
  const types = (events: readonly NewRunEvent[]) => events.map((event) => event.type);
  const datas = (events: readonly NewRunEvent[]) => events.map((event) => event.data);

  return {
    description: where,
    durable: true,

    create: (run) =>
      guard("create a run", async () => {
        const leaseMs = initialLeaseMs(run);
        const events = run.events ?? [];
        const claimed = run.owner !== undefined;
        try {
          const [row] = await sql<RunRow[]>`
            WITH run AS (
              INSERT INTO skiff_runs (id, status, session_id, background, request, created_at, updated_at, attempt, owner, lease_expires_at, last_seq)
              SELECT ${run.id}, ${claimed ? "running" : "queued"}, ${run.sessionId ?? null}, ${run.background}, ${run.request}, t.ms, t.ms,
                ${claimed ? 1 : 0}::int, ${run.owner ?? null}, t.ms + ${leaseMs ?? null}::bigint, ${events.length}::int
              FROM (SELECT ${nowMs} AS ms) t
              RETURNING *),
            events AS (
              INSERT INTO skiff_run_events (run_id, seq, type, data, at)
              SELECT run.id, e.ord, e.type, e.data, run.created_at
              FROM run, unnest(${types(events)}::text[], ${datas(events)}::text[]) WITH ORDINALITY AS e(type, data, ord))
            SELECT * FROM run`;
          return record(row!);
        } catch (error) {
          throw sqlState(error) === "23505" ? runExistsError(run.id, where, error) : error;
        }
      }),

    get: (id) =>
      guard("read a run", async () => {
        const [row] = await sql<RunRow[]>`SELECT * FROM skiff_runs WHERE id = ${id}`;
        return row ? record(row) : undefined;
      }),

    list: (query) => guard("list runs", async () => (await listRuns(sql, query)).map(record)),

    events: (id, afterSeq, limit) =>
      guard("read a run's events", async () => {
        const rows = await sql<RunEventRow[]>`
          SELECT seq, type, data, at FROM skiff_run_events WHERE run_id = ${id} AND seq > ${afterSeq} ORDER BY seq LIMIT ${limit}`;
        return rows.map(eventFromRow);
      }),

    append: (id, owner, events) =>
      guard("append a run's events", async () => {
        // Only last_seq changes on the run row: no indexed column, so the update is heap-only.
        const [row] = await sql<{ last_seq: number }[]>`
          WITH bumped AS (
            UPDATE skiff_runs SET last_seq = last_seq + ${events.length}::int
            WHERE id = ${id} AND owner = ${owner} AND status IN ('queued', 'running', 'requires_action') AND lease_expires_at > ${nowMs}
            RETURNING last_seq),
          events AS (
            INSERT INTO skiff_run_events (run_id, seq, type, data, at)
            SELECT ${id}, bumped.last_seq - ${events.length}::int + e.ord, e.type, e.data, ${nowMs}
            FROM bumped, unnest(${types(events)}::text[], ${datas(events)}::text[]) WITH ORDINALITY AS e(type, data, ord))
          SELECT last_seq FROM bumped`;
        if (!row) throw new LeaseLostError(id);
        return row.last_seq;
      }),

    setTraceId: (id, owner, traceId) =>
      guard("record a run's trace id", async () => {
        const rows = await sql`
          UPDATE skiff_runs SET trace_id = ${traceId}
          WHERE id = ${id} AND owner = ${owner} AND status IN ('queued', 'running', 'requires_action') AND lease_expires_at > ${nowMs}
          RETURNING id`;
        if (rows.length === 0) throw new LeaseLostError(id);
      }),

    claim: (owner, leaseMs, limit) =>
      guard("claim runs", async () => {
        // SKIP LOCKED: concurrent claimers each take rows nobody else has locked, and a row another
        // claimer updated meanwhile is re-checked against the WHERE before it is taken.
        const rows = await sql<RunRow[]>`
          WITH chosen AS (
            SELECT id FROM skiff_runs
            WHERE status IN ('queued', 'running') AND (lease_expires_at IS NULL OR lease_expires_at <= ${nowMs})
            ORDER BY created_at, id LIMIT ${limit}
            FOR UPDATE SKIP LOCKED)
          UPDATE skiff_runs r SET status = 'running', owner = ${owner}, lease_expires_at = ${nowMs} + ${leaseMs}::bigint,
            attempt = r.attempt + 1, updated_at = ${nowMs}
          FROM chosen WHERE r.id = chosen.id
          RETURNING r.*`;
        return rows.map(record).sort(oldestFirst);
      }),

    renew: (owner, ids, leaseMs) =>
      guard("renew leases", async () => {
        if (ids.length === 0) return { renewed: [], cancelRequested: [] };
        // Rows are locked in id order, so two replicas renewing overlapping lists cannot deadlock.
        const rows = await sql<{ id: string; cancel_requested: boolean }[]>`
          WITH mine AS (
            SELECT id FROM skiff_runs
            WHERE id = ANY(${[...new Set(ids)]}::text[]) AND owner = ${owner}
              AND status IN ('queued', 'running', 'requires_action') AND lease_expires_at > ${nowMs}
            ORDER BY id FOR UPDATE)
          UPDATE skiff_runs r SET lease_expires_at = ${nowMs} + ${leaseMs}::bigint
          FROM mine WHERE r.id = mine.id
          RETURNING r.id, r.cancel_requested`;
        return { renewed: rows.map((row) => row.id), cancelRequested: rows.filter((row) => row.cancel_requested).map((row) => row.id) };
      }),

    release: (id, owner) =>
      guard("release a run", async () => {
        await sql`
          UPDATE skiff_runs SET owner = NULL, lease_expires_at = NULL, updated_at = ${nowMs}
          WHERE id = ${id} AND owner = ${owner} AND status IN ('queued', 'running', 'requires_action') AND lease_expires_at > ${nowMs}`;
      }),

    finish: (id, owner, status, result, events) =>
      guard("finish a run", async () => {
        const [row] = await sql<{ last_seq: number }[]>`
          WITH done AS (
            UPDATE skiff_runs SET status = ${status}, result = ${result}, owner = NULL, lease_expires_at = NULL, updated_at = ${nowMs},
              last_seq = last_seq + ${events.length}::int
            WHERE id = ${id} AND owner = ${owner} AND status IN ('queued', 'running', 'requires_action') AND lease_expires_at > ${nowMs}
            RETURNING last_seq, updated_at),
          events AS (
            INSERT INTO skiff_run_events (run_id, seq, type, data, at)
            SELECT ${id}, done.last_seq - ${events.length}::int + e.ord, e.type, e.data, done.updated_at
            FROM done, unnest(${types(events)}::text[], ${datas(events)}::text[]) WITH ORDINALITY AS e(type, data, ord))
          SELECT last_seq FROM done`;
        if (!row) throw new LeaseLostError(id);
        return row.last_seq;
      }),

    advance: (id, expected, change) =>
      guard("move a run on", async () => {
        const events = change.events;
        const [row] = await sql<{ last_seq: number }[]>`
          WITH moved AS (
            UPDATE skiff_runs SET status = ${change.status}, result = ${change.result ?? null}, updated_at = ${nowMs},
              last_seq = last_seq + ${events.length}::int
            WHERE id = ${id} AND status = ${expected.status} AND last_seq = ${expected.lastSeq}::int
            RETURNING last_seq, updated_at),
          events AS (
            INSERT INTO skiff_run_events (run_id, seq, type, data, at)
            SELECT ${id}, moved.last_seq - ${events.length}::int + e.ord, e.type, e.data, moved.updated_at
            FROM moved, unnest(${types(events)}::text[], ${datas(events)}::text[]) WITH ORDINALITY AS e(type, data, ord))
          SELECT last_seq FROM moved`;
        return row?.last_seq;
      }),

    requestCancel: (id, result, events) =>
      guard("cancel a run", () =>
        sql.begin(async (tx): Promise<RunRecord | undefined> => {
          const [row] = await tx<(RunRow & { now_ms: string })[]>`SELECT *, ${nowMs} AS now_ms FROM skiff_runs WHERE id = ${id} FOR UPDATE`;
          if (!row) return undefined;
          const run = record(row);
          if (run.status === "completed" || run.status === "failed" || run.status === "cancelled") return run;
          if (run.leaseExpiresAt !== undefined && run.leaseExpiresAt > Number(row.now_ms)) {
            if (run.cancelRequested) return run;
            const [flagged] = await tx<RunRow[]>`UPDATE skiff_runs SET cancel_requested = true, updated_at = ${nowMs} WHERE id = ${id} RETURNING *`;
            return record(flagged!);
          }
          // Nobody executes it (queued, released, or its executor's lease ran out): cancelled here.
          const [cancelled] = await tx<RunRow[]>`
            WITH done AS (
              UPDATE skiff_runs SET status = 'cancelled', result = ${result}, cancel_requested = true, owner = NULL, lease_expires_at = NULL,
                updated_at = ${nowMs}, last_seq = last_seq + ${events.length}::int
              WHERE id = ${id} RETURNING *),
            events AS (
              INSERT INTO skiff_run_events (run_id, seq, type, data, at)
              SELECT ${id}, done.last_seq - ${events.length}::int + e.ord, e.type, e.data, done.updated_at
              FROM done, unnest(${types(events)}::text[], ${datas(events)}::text[]) WITH ORDINALITY AS e(type, data, ord))
            SELECT * FROM done`;
          return record(cancelled!);
        }),
      ),

    deleteFinished: (updatedBefore, limit) =>
      guard("delete finished runs", async () => {
        // Events go with their run (ON DELETE CASCADE). SKIP LOCKED: every replica sweeps, none waits.
        const deleted = await sql`
          WITH doomed AS (
            SELECT id FROM skiff_runs WHERE status IN ('completed', 'failed', 'cancelled') AND updated_at < ${updatedBefore}
            ORDER BY updated_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)
          DELETE FROM skiff_runs r USING doomed WHERE r.id = doomed.id`;
        return deleted.count;
      }),

    close: () => guard("close", () => sql.close({ timeout: 5 })),
  };
}

/** Newest first, optionally by status and before a (createdAt, id) cursor; ids in byte order. */
function listRuns(sql: SQL, query: RunListQuery): Promise<RunRow[]> {
  const status = query.status === undefined ? sql`` : sql`AND status = ${query.status}`;
  const before =
    query.createdBefore === undefined
      ? sql``
      : query.beforeId === undefined
        ? sql`AND created_at < ${query.createdBefore}`
        : sql`AND (created_at < ${query.createdBefore} OR (created_at = ${query.createdBefore} AND id COLLATE "C" < ${query.beforeId}))`;
  return sql<RunRow[]>`SELECT * FROM skiff_runs WHERE true ${status} ${before} ORDER BY created_at DESC, id COLLATE "C" DESC LIMIT ${query.limit}`;
}

function oldestFirst(a: RunRecord, b: RunRecord): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** The SQLSTATE of a server error (Bun puts it in `errno`). */
function sqlState(error: unknown): string | undefined {
  const errno = error instanceof Error ? (error as { errno?: unknown }).errno : undefined;
  return typeof errno === "string" ? errno : undefined;
}
