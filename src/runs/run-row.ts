/**
 * A run as a SQL row, and its conversion to a RunRecord: shared by the SQLite and Postgres
 * adapters, whose drivers hand back the same columns in different types (SQLite: integers for
 * booleans; Postgres: bigint columns as text).
 */
import { type NewRun, type RunEvent, type RunRecord, type RunStatus, RunStoreError } from "./run-store.ts";

/** The columns of a `runs` row as either driver returns them. */
export interface RunRow {
  readonly id: string;
  readonly status: string;
  readonly session_id: string | null;
  readonly background: number | boolean;
  readonly request: string;
  readonly created_at: number | string;
  readonly updated_at: number | string;
  readonly attempt: number;
  readonly owner: string | null;
  readonly lease_expires_at: number | string | null;
  readonly cancel_requested: number | boolean;
  readonly trace_id: string | null;
  readonly result: string | null;
  readonly last_seq: number | string;
}

/** An event row as either driver returns it. */
export interface RunEventRow {
  readonly seq: number;
  readonly type: string;
  readonly data: string;
  readonly at: number | string;
}

const statuses: ReadonlySet<string> = new Set<RunStatus>(["queued", "running", "requires_action", "completed", "failed", "cancelled"]);

/** The record a row stands for; a status this binary does not know is refused, not guessed at. */
export function runFromRow(row: RunRow, where: string): RunRecord {
  if (!statuses.has(row.status)) {
    throw new RunStoreError(`run ${row.id} in ${where} has status "${row.status}", which this skiff does not know: was it written by a newer skiff?`);
  }
  return {
    id: row.id,
    status: row.status as RunStatus,
    sessionId: row.session_id ?? undefined,
    background: Boolean(row.background),
    request: row.request,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    attempt: row.attempt,
    owner: row.owner ?? undefined,
    leaseExpiresAt: row.lease_expires_at === null ? undefined : Number(row.lease_expires_at),
    cancelRequested: Boolean(row.cancel_requested),
    traceId: row.trace_id ?? undefined,
    result: row.result ?? undefined,
    lastSeq: Number(row.last_seq),
  };
}

/** The event a row stands for. */
export function eventFromRow(row: RunEventRow): RunEvent {
  return { seq: row.seq, type: row.type, data: row.data, at: Number(row.at) };
}

/** The lease a new run starts with: none when queued; a claimed run must say how long it holds it. */
export function initialLeaseMs(run: NewRun): number | undefined {
  if (run.owner === undefined) return undefined;
  if (run.leaseMs === undefined || !(run.leaseMs > 0)) throw new RunStoreError(`run ${run.id}: created claimed by ${run.owner} without a positive leaseMs`);
  return run.leaseMs;
}

/** Creating a run whose id is taken. */
export function runExistsError(id: string, where: string, cause?: unknown): RunStoreError {
  return new RunStoreError(`a run with id "${id}" already exists in ${where}`, { cause });
}
