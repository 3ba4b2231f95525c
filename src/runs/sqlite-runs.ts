/**
 * Runs and their events in the SQLite file the session store uses (bun:sqlite), on a connection
 * of their own. Every write is one IMMEDIATE transaction: it takes the file's write lock before
 * reading, so two processes on one file (an old and a new `skiff serve` during a restart) can
 * neither claim one run twice nor interleave a run's events. Time is the injected `now` (Date.now
 * by default): the processes sharing a file share the machine's clock. Only sqlite*.ts files in
 * src/ import bun:sqlite.
 */
import type { Database } from "bun:sqlite";
import { openSqliteFile } from "../sessions/sqlite-file.ts";
import { eventFromRow, initialLeaseMs, runExistsError, runFromRow, type RunEventRow, type RunRow } from "./run-row.ts";
import { LeaseLostError, type NewRun, type NewRunEvent, type RunListQuery, type RunRecord, type RunStore, RunStoreError, type RenewResult, type RunChange } from "./run-store.ts";

/** Options for tests; the default clock is Date.now. */
export interface SqliteRunStoreOptions {
  readonly now?: () => number;
}

// A run a replica may take: unfinished, and nobody holds an unexpired lease on it.
// requires_action is left out: such a run waits for decisions, and `advance` queues it when they are in.
const claimable = "status IN ('queued', 'running') AND (lease_expires_at IS NULL OR lease_expires_at <= ?)";
// The run is unfinished and the given owner holds an unexpired lease (parameters: owner, now).
const held = "owner = ? AND status IN ('queued', 'running', 'requires_action') AND lease_expires_at > ?";

/**
 * Opens (creating when needed, and migrating to the current schema, whichever store opens the file
 * first) the run store in the SQLite file at `path`.
 */
export function createSqliteRunStore(path: string, options: SqliteRunStoreOptions = {}): RunStore {
  const now = options.now ?? Date.now;
  const description = `sqlite:${path}`;
  const db = openSqliteFile(path, { now, name: `run store ${description}`, fail: (message, cause) => new RunStoreError(message, { cause }) });

  const insertRun = db.query(
    `INSERT INTO runs (id, status, session_id, background, request, created_at, updated_at, attempt, owner, lease_expires_at, last_seq)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertEvent = db.query("INSERT INTO run_events (run_id, seq, type, data, at) VALUES (?, ?, ?, ?, ?)");
  const selectRun = db.query<RunRow, [string]>("SELECT * FROM runs WHERE id = ?");
  const selectEvents = db.query<RunEventRow, [string, number, number]>(
    "SELECT seq, type, data, at FROM run_events WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?",
  );
  const bumpSeq = db.query<{ last_seq: number }, [number, string, string, number]>(
    `UPDATE runs SET last_seq = last_seq + ? WHERE id = ? AND ${held} RETURNING last_seq`,
  );
  const setTrace = db.query<{ id: string }, [string, string, string, number]>(`UPDATE runs SET trace_id = ? WHERE id = ? AND ${held} RETURNING id`);
  const selectClaimable = db.query<{ id: string }, [number, number]>(`SELECT id FROM runs WHERE ${claimable} ORDER BY created_at, id LIMIT ?`);
  const claimOne = db.query<RunRow, [string, number, number, string]>(
    "UPDATE runs SET status = 'running', owner = ?, lease_expires_at = ?, attempt = attempt + 1, updated_at = ? WHERE id = ? RETURNING *",
  );
  const renewOne = db.query<{ cancel_requested: number }, [number, string, string, number]>(
    `UPDATE runs SET lease_expires_at = ? WHERE id = ? AND ${held} RETURNING cancel_requested`,
  );
  const releaseOne = db.query("UPDATE runs SET owner = NULL, lease_expires_at = NULL, updated_at = ? WHERE id = ? AND " + held);
  const finishOne = db.query<{ last_seq: number }, [string, string, number, number, string, string, number]>(
    `UPDATE runs SET status = ?, result = ?, owner = NULL, lease_expires_at = NULL, updated_at = ?, last_seq = last_seq + ?
     WHERE id = ? AND ${held} RETURNING last_seq`,
  );
  const cancelNow = db.query<RunRow, [string, number, number, string]>(
    `UPDATE runs SET status = 'cancelled', result = ?, cancel_requested = 1, owner = NULL, lease_expires_at = NULL, updated_at = ?,
     last_seq = last_seq + ? WHERE id = ? RETURNING *`,
  );
  const flagCancel = db.query<RunRow, [number, string]>("UPDATE runs SET cancel_requested = 1, updated_at = ? WHERE id = ? RETURNING *");
  // Served by runs_finished_by_updated_at (a partial index on exactly this status list).
  const selectFinished = db.query<{ id: string }, [number, number]>(
    "SELECT id FROM runs WHERE status IN ('completed', 'failed', 'cancelled') AND updated_at < ? ORDER BY updated_at LIMIT ?",
  );
  const deleteEvents = db.query("DELETE FROM run_events WHERE run_id = ?");
  const deleteRun = db.query("DELETE FROM runs WHERE id = ?");

  /** Writes `events` after `lastSeq` (the run's new last seq already counts them). */
  const insertEvents = (id: string, lastSeq: number, events: readonly NewRunEvent[], at: number) => {
    let seq = lastSeq - events.length;
    for (const event of events) insertEvent.run(id, ++seq, event.type, event.data, at);
  };
  const record = (row: RunRow) => runFromRow(row, description);

  const create = db.transaction((run: NewRun): RunRecord => {
    const leaseMs = initialLeaseMs(run);
    const at = now();
    const events = run.events ?? [];
    const claimed = run.owner !== undefined;
    insertRun.run(
      run.id,
      claimed ? "running" : "queued",
      run.sessionId ?? null,
      run.background ? 1 : 0,
      run.request,
      at,
      at,
      claimed ? 1 : 0,
      run.owner ?? null,
      leaseMs === undefined ? null : at + leaseMs,
      events.length,
    );
    insertEvents(run.id, events.length, events, at);
    return record(selectRun.get(run.id)!);
  });

  const append = db.transaction((id: string, owner: string, events: readonly NewRunEvent[]): number => {
    const at = now();
    const row = bumpSeq.get(events.length, id, owner, at);
    if (!row) throw new LeaseLostError(id);
    insertEvents(id, row.last_seq, events, at);
    return row.last_seq;
  });

  const claim = db.transaction((owner: string, leaseMs: number, limit: number): RunRecord[] => {
    const at = now();
    return selectClaimable.all(at, limit).map(({ id }) => record(claimOne.get(owner, at + leaseMs, at, id)!));
  });

  const renew = db.transaction((owner: string, ids: readonly string[], leaseMs: number): RenewResult => {
    const at = now();
    const renewed: string[] = [];
    const cancelRequested: string[] = [];
    for (const id of new Set(ids)) {
      const row = renewOne.get(at + leaseMs, id, owner, at);
      if (!row) continue;
      renewed.push(id);
      if (row.cancel_requested) cancelRequested.push(id);
    }
    return { renewed, cancelRequested };
  });

  const finish = db.transaction((id: string, owner: string, status: string, result: string, events: readonly NewRunEvent[]): number => {
    const at = now();
    const row = finishOne.get(status, result, at, events.length, id, owner, at);
    if (!row) throw new LeaseLostError(id);
    insertEvents(id, row.last_seq, events, at);
    return row.last_seq;
  });

  const advanceOne = db.query<{ last_seq: number }, [string, string | null, number, number, string, string, number]>(
    "UPDATE runs SET status = ?, result = ?, updated_at = ?, last_seq = last_seq + ? WHERE id = ? AND status = ? AND last_seq = ? RETURNING last_seq",
  );
  const advance = db.transaction((id: string, expected: { status: string; lastSeq: number }, change: RunChange): number | undefined => {
    const at = now();
    const row = advanceOne.get(change.status, change.result ?? null, at, change.events.length, id, expected.status, expected.lastSeq);
    if (!row) return undefined;
    insertEvents(id, row.last_seq, change.events, at);
    return row.last_seq;
  });

  const requestCancel = db.transaction((id: string, result: string, events: readonly NewRunEvent[]): RunRecord | undefined => {
    const row = selectRun.get(id);
    if (!row) return undefined;
    const run = record(row);
    if (run.status === "completed" || run.status === "failed" || run.status === "cancelled") return run;
    const at = now();
    // Nobody executes it (queued, released, or its executor's lease ran out): cancelled here.
    if (run.leaseExpiresAt === undefined || run.leaseExpiresAt <= at) {
      const cancelled = cancelNow.get(result, at, events.length, id)!;
      insertEvents(id, Number(cancelled.last_seq), events, at);
      return record(cancelled);
    }
    return run.cancelRequested ? run : record(flagCancel.get(at, id)!);
  });

  const deleteFinished = db.transaction((updatedBefore: number, limit: number): number => {
    const ids = selectFinished.all(updatedBefore, limit);
    for (const { id } of ids) {
      deleteEvents.run(id);
      deleteRun.run(id);
    }
    return ids.length;
  });

  const guard = <T>(what: string, work: () => T): T => {
    try {
      return work();
    } catch (error) {
      if (error instanceof LeaseLostError || error instanceof RunStoreError) throw error;
      throw new RunStoreError(`could not ${what} in the run store ${description}: ${messageOf(error)}`, { cause: error });
    }
  };

  return {
    description,
    durable: true,
    async create(run) {
      return guard("create a run", () => {
        try {
          return create.immediate(run);
        } catch (error) {
          throw sqliteCode(error) === "SQLITE_CONSTRAINT_PRIMARYKEY" ? runExistsError(run.id, description, error) : error;
        }
      });
    },
    async get(id) {
      return guard("read a run", () => {
        const row = selectRun.get(id);
        return row ? record(row) : undefined;
      });
    },
    async list(query) {
      return guard("list runs", () => listRuns(db, query).map(record));
    },
    async events(id, afterSeq, limit) {
      return guard("read a run's events", () => selectEvents.all(id, afterSeq, limit).map(eventFromRow));
    },
    async append(id, owner, events) {
      return guard("append a run's events", () => append.immediate(id, owner, events));
    },
    async setTraceId(id, owner, traceId) {
      guard("record a run's trace id", () => {
        if (!setTrace.get(traceId, id, owner, now())) throw new LeaseLostError(id);
      });
    },
    async claim(owner, leaseMs, limit) {
      return guard("claim runs", () => claim.immediate(owner, leaseMs, limit));
    },
    async renew(owner, ids, leaseMs) {
      if (ids.length === 0) return { renewed: [], cancelRequested: [] };
      return guard("renew leases", () => renew.immediate(owner, ids, leaseMs));
    },
    async release(id, owner) {
      guard("release a run", () => {
        const at = now();
        releaseOne.run(at, id, owner, at);
      });
    },
    async finish(id, owner, status, result, events) {
      return guard("finish a run", () => finish.immediate(id, owner, status, result, events));
    },
    async advance(id, expected, change) {
      return guard("move a run on", () => advance.immediate(id, expected, change));
    },
    async requestCancel(id, result, events) {
      return guard("cancel a run", () => requestCancel.immediate(id, result, events));
    },
    async deleteFinished(updatedBefore, limit) {
      return guard("delete finished runs", () => deleteFinished.immediate(updatedBefore, limit));
    },
    async close() {
      guard("close", () => db.close());
    },
  };
}

/** Newest first, optionally by status and before a (createdAt, id) cursor. */
function listRuns(db: Database, query: RunListQuery): RunRow[] {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (query.status !== undefined) {
    where.push("status = ?");
    params.push(query.status);
  }
  if (query.createdBefore !== undefined) {
    if (query.beforeId === undefined) {
      where.push("created_at < ?");
      params.push(query.createdBefore);
    } else {
      where.push("(created_at < ? OR (created_at = ? AND id < ?))");
      params.push(query.createdBefore, query.createdBefore, query.beforeId);
    }
  }
  const sql = `SELECT * FROM runs ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY created_at DESC, id DESC LIMIT ?`;
  return db.query<RunRow, (string | number)[]>(sql).all(...params, query.limit);
}


function sqliteCode(error: unknown): string | undefined {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof code === "string" ? code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
