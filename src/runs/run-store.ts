/**
 * The run journal's storage port. A run is a row plus an append-only list of events; the events
 * are both what `GET /v1/runs/{id}/events` streams and the journal a crashed run is rebuilt from.
 * Every write that a run's executor makes is fenced by its lease: a replica that lost the lease
 * (it stalled, another replica claimed the run) can no longer append or finish, so two executors
 * never both write one run. `test/runs/run-store-contract.ts` is the suite every adapter passes.
 */
import { SkiffError } from "../errors.ts";

/** Every status a run can have, in the order of its life. */
export const runStatuses = ["queued", "running", "requires_action", "completed", "failed", "cancelled"] as const;

/** Where a run is in its life. `requires_action` is for approvals (a run waiting for a person). */
export type RunStatus = (typeof runStatuses)[number];

/** Statuses after which nothing changes any more. */
export const finishedStatuses: ReadonlySet<RunStatus> = new Set(["completed", "failed", "cancelled"]);

/** One stored event of a run. `seq` counts from 1 without gaps within the run. */
export interface RunEvent {
  readonly seq: number;
  readonly type: string;
  /** The event's JSON body, as it is streamed. */
  readonly data: string;
  /** Epoch ms. */
  readonly at: number;
}

/** An event to append; the store numbers it. */
export interface NewRunEvent {
  readonly type: string;
  readonly data: string;
}

/** A run as stored. */
export interface RunRecord {
  readonly id: string;
  readonly status: RunStatus;
  readonly sessionId: string | undefined;
  /** Detached from the request that made it: runs on after its client goes away. */
  readonly background: boolean;
  /** The request that made the run, as JSON (input, limits, traceparent…): enough to run it again. */
  readonly request: string;
  /** Epoch ms. */
  readonly createdAt: number;
  /**
   * Epoch ms of the last change of status, owner, cancel flag or result. Appending events and
   * renewing the lease leave it alone: they are the hot writes, and in Postgres a run row update
   * that touches no indexed column is heap-only (no index writes).
   */
  readonly updatedAt: number;
  /** Executions started so far: 1 for the first, 2 after one recovery, … (0 while queued). */
  readonly attempt: number;
  /** The replica holding the lease, while one does. */
  readonly owner: string | undefined;
  /** Epoch ms after which another replica may claim the run. */
  readonly leaseExpiresAt: number | undefined;
  /** Someone asked to cancel the run; its executor stops it at the next lease renewal. */
  readonly cancelRequested: boolean;
  /** The trace the run's spans belong to, once known; a resumed attempt joins it. */
  readonly traceId: string | undefined;
  /** The final JSON body (result or error) once finished. */
  readonly result: string | undefined;
  /** Sequence number of the newest event (0 before any). */
  readonly lastSeq: number;
}

/** A run to create. */
export interface NewRun {
  readonly id: string;
  readonly sessionId: string | undefined;
  readonly background: boolean;
  readonly request: string;
  /** Created already claimed by this replica (status `running`, attempt 1), or `queued` when undefined. */
  readonly owner?: string;
  readonly leaseMs?: number;
  /** Events written in the same transaction as the run (e.g. `run.queued`). */
  readonly events?: readonly NewRunEvent[];
}

/**
 * How an execution ends: finished, or paused in `requires_action` waiting for a person (the lease
 * is given up; the run is not claimed again until `advance` queues it).
 */
export type FinalStatus = "completed" | "failed" | "cancelled" | "requires_action";

/** What `advance` writes. */
export interface RunChange {
  readonly status: RunStatus;
  /** The new result JSON; undefined clears it. */
  readonly result: string | undefined;
  readonly events: readonly NewRunEvent[];
}

/** How a lease renewal went, per run. */
export interface RenewResult {
  /** Runs whose lease this replica still holds (now extended). */
  readonly renewed: readonly string[];
  /** Of the renewed ones, those someone asked to cancel. */
  readonly cancelRequested: readonly string[];
}

/** Filters for listing runs, newest first. */
export interface RunListQuery {
  readonly status?: RunStatus;
  readonly limit: number;
  /** Only runs created before this epoch ms (paging). */
  readonly createdBefore?: number;
  /**
   * With `createdBefore`: also the runs created at exactly `createdBefore` whose id sorts before
   * this one (byte order). Pass the last listed run's createdAt and id to page without losing runs
   * created in the same millisecond as a page's last one.
   */
  readonly beforeId?: string;
}

/** Storage for runs and their events. All methods are async so a networked store fits. */
export interface RunStore {
  /** For logs, e.g. `sqlite:/var/lib/skiff/skiff.db`. */
  readonly description: string;
  /** True when runs survive this process (SQLite, Postgres); false for memory. */
  readonly durable: boolean;
  /** Inserts a new run; its id must be new. */
  create(run: NewRun): Promise<RunRecord>;
  get(id: string): Promise<RunRecord | undefined>;
  list(query: RunListQuery): Promise<readonly RunRecord[]>;
  /** Events with seq > `afterSeq`, oldest first, at most `limit`. */
  events(id: string, afterSeq: number, limit: number): Promise<readonly RunEvent[]>;
  /**
   * Appends events in one transaction if `owner` holds the run's lease and the run is not
   * finished; returns the new last seq. Throws LeaseLostError otherwise.
   */
  append(id: string, owner: string, events: readonly NewRunEvent[]): Promise<number>;
  /** Records the run's trace id (first attempt) if `owner` holds the lease. */
  setTraceId(id: string, owner: string, traceId: string): Promise<void>;
  /**
   * Claims up to `limit` runs that are queued, or running with a lease that expired before
   * `now` (a run in requires_action waits for its decisions and is never claimed): sets owner, lease, status `running` and attempt + 1. Concurrent claims
   * by several replicas never hand one run to two of them (FOR UPDATE SKIP LOCKED on Postgres).
   * Runs whose cancel was requested are claimed too: the claimer finishes them as cancelled.
   */
  claim(owner: string, leaseMs: number, limit: number): Promise<readonly RunRecord[]>;
  /** Extends the leases `owner` still holds among `ids`, and reports cancel requests. */
  renew(owner: string, ids: readonly string[], leaseMs: number): Promise<RenewResult>;
  /** Gives up a lease without finishing (graceful shutdown): the run becomes claimable at once. */
  release(id: string, owner: string): Promise<void>;
  /**
   * Finishes the run if `owner` holds the lease: sets the status and result and appends the final
   * events, in one transaction. Throws LeaseLostError when the lease is gone.
   */
  finish(id: string, owner: string, status: FinalStatus, result: string, events: readonly NewRunEvent[]): Promise<number>;
  /**
   * Moves a run nobody executes (one waiting for approvals) to `change.status` if it is still
   * exactly as the caller read it (`expected` status and last seq): appends the events and sets the
   * result. Returns the new last seq, or undefined when it changed meanwhile (read it again and
   * retry) or does not exist. Approvals use it: two replicas deciding at once cannot both win.
   */
  advance(id: string, expected: { readonly status: RunStatus; readonly lastSeq: number }, change: RunChange): Promise<number | undefined>;
  /**
   * Asks for a cancel. A run nobody executes (queued, or its lease expired) is finished as
   * cancelled right here with `events` appended; a running one is flagged for its executor.
   * Returns the run after the change, undefined for an unknown id.
   */
  requestCancel(id: string, result: string, events: readonly NewRunEvent[]): Promise<RunRecord | undefined>;
  /** Deletes up to `limit` finished runs last updated before `updatedBefore`; says how many went. */
  deleteFinished(updatedBefore: number, limit: number): Promise<number>;
  close(): Promise<void>;
}

/** The replica no longer holds the run's lease (another one claimed it, or it finished). */
export class LeaseLostError extends SkiffError {
  readonly runId: string;

  constructor(runId: string) {
    super("lease_lost", `run ${runId}: this replica no longer holds its lease (another replica took it over, or it was finished or cancelled)`);
    this.runId = runId;
  }
}

/** The run store could not be used. */
export class RunStoreError extends SkiffError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("run_store", message, { cause: options?.cause });
  }
}
