/**
 * Runs in process memory, for `sessions = "memory"`: nothing survives the process (`durable` is
 * false), so there is nothing to recover and no other replica to fence off. It keeps the same
 * rules as the database stores (leases, fencing, numbering) so the executor works the same on it.
 * Records are never mutated, only replaced, so they are handed out without copying.
 */
import { finishedStatuses, LeaseLostError, type NewRunEvent, type RunEvent, type RunRecord, type RunStore, RunStoreError } from "./run-store.ts";
import { initialLeaseMs, runExistsError } from "./run-row.ts";

/** Options for tests; the default clock is Date.now. */
export interface MemoryRunStoreOptions {
  readonly now?: () => number;
}

/** A run store that lives and dies with this process. */
export function createMemoryRunStore(options: MemoryRunStoreOptions = {}): RunStore {
  const now = options.now ?? Date.now;
  const runs = new Map<string, RunRecord>();
  const journals = new Map<string, RunEvent[]>();
  let closed = false;

  const open = () => {
    if (closed) throw new RunStoreError("the memory run store is closed");
  };
  const holds = (run: RunRecord | undefined, owner: string, at: number): run is RunRecord =>
    run !== undefined && run.owner === owner && !finishedStatuses.has(run.status) && run.leaseExpiresAt !== undefined && run.leaseExpiresAt > at;
  const claimable = (run: RunRecord, at: number) =>
    (run.status === "queued" || run.status === "running") && (run.leaseExpiresAt === undefined || run.leaseExpiresAt <= at);
  const write = (run: RunRecord, events: readonly NewRunEvent[], at: number): RunRecord => {
    const journal = journals.get(run.id) ?? [];
    let seq = run.lastSeq;
    for (const event of events) journal.push({ seq: ++seq, type: event.type, data: event.data, at });
    journals.set(run.id, journal);
    const next = { ...run, lastSeq: seq };
    runs.set(run.id, next);
    return next;
  };
  const fenced = (id: string, owner: string, at: number): RunRecord => {
    const run = runs.get(id);
    if (!holds(run, owner, at)) throw new LeaseLostError(id);
    return run;
  };
  const newestFirst = (a: RunRecord, b: RunRecord) => b.createdAt - a.createdAt || compareIds(b.id, a.id);

  return {
    description: "memory",
    durable: false,

    async create(run) {
      open();
      if (runs.has(run.id)) throw runExistsError(run.id, "memory");
      const leaseMs = initialLeaseMs(run);
      const at = now();
      const record: RunRecord = {
        id: run.id,
        status: run.owner === undefined ? "queued" : "running",
        sessionId: run.sessionId,
        background: run.background,
        request: run.request,
        createdAt: at,
        updatedAt: at,
        attempt: run.owner === undefined ? 0 : 1,
        owner: run.owner,
        leaseExpiresAt: leaseMs === undefined ? undefined : at + leaseMs,
        cancelRequested: false,
        traceId: undefined,
        result: undefined,
        lastSeq: 0,
      };
      return write(record, run.events ?? [], at);
    },

    async get(id) {
      open();
      return runs.get(id);
    },

    async list(query) {
      open();
      const before = query.createdBefore;
      return [...runs.values()]
        .filter((run) => query.status === undefined || run.status === query.status)
        .filter((run) => before === undefined || run.createdAt < before || (run.createdAt === before && query.beforeId !== undefined && compareIds(run.id, query.beforeId) < 0))
        .sort(newestFirst)
        .slice(0, query.limit);
    },

    async events(id, afterSeq, limit) {
      open();
      // seq n sits at index n - 1: no gaps.
      return (journals.get(id) ?? []).slice(Math.max(0, afterSeq), Math.max(0, afterSeq) + limit);
    },

    async append(id, owner, events) {
      open();
      const at = now();
      return write(fenced(id, owner, at), events, at).lastSeq;
    },

    async setTraceId(id, owner, traceId) {
      open();
      const run = fenced(id, owner, now());
      runs.set(id, { ...run, traceId });
    },

    async advance(id, expected, change) {
      open();
      const run = runs.get(id);
      if (!run || run.status !== expected.status || run.lastSeq !== expected.lastSeq) return undefined;
      const at = now();
      const { result: _old, ...rest } = run;
      const moved: RunRecord = { ...rest, status: change.status, updatedAt: at, ...(change.result === undefined ? { result: undefined } : { result: change.result }) };
      return write(moved, change.events, at).lastSeq;
    },

    async claim(owner, leaseMs, limit) {
      open();
      const at = now();
      const chosen = [...runs.values()]
        .filter((run) => claimable(run, at))
        .sort((a, b) => a.createdAt - b.createdAt || compareIds(a.id, b.id))
        .slice(0, limit);
      return chosen.map((run) => {
        const claimed: RunRecord = { ...run, status: "running", owner, leaseExpiresAt: at + leaseMs, attempt: run.attempt + 1, updatedAt: at };
        runs.set(run.id, claimed);
        return claimed;
      });
    },

    async renew(owner, ids, leaseMs) {
      open();
      const at = now();
      const renewed: string[] = [];
      const cancelRequested: string[] = [];
      for (const id of new Set(ids)) {
        const run = runs.get(id);
        if (!holds(run, owner, at)) continue;
        runs.set(id, { ...run, leaseExpiresAt: at + leaseMs });
        renewed.push(id);
        if (run.cancelRequested) cancelRequested.push(id);
      }
      return { renewed, cancelRequested };
    },

    async release(id, owner) {
      open();
      const at = now();
      const run = runs.get(id);
      if (holds(run, owner, at)) runs.set(id, { ...run, owner: undefined, leaseExpiresAt: undefined, updatedAt: at });
    },

    async finish(id, owner, status, result, events) {
      open();
      const at = now();
      const run = fenced(id, owner, at);
      return write({ ...run, status, result, owner: undefined, leaseExpiresAt: undefined, updatedAt: at }, events, at).lastSeq;
    },

    async requestCancel(id, result, events) {
      open();
      const run = runs.get(id);
      if (!run || finishedStatuses.has(run.status)) return run;
      const at = now();
      // Nobody executes it (queued, waiting for approvals, released, or its lease ran out): cancelled here.
      if (run.leaseExpiresAt === undefined || run.leaseExpiresAt <= at) {
        const cancelled: RunRecord = { ...run, status: "cancelled", result, cancelRequested: true, owner: undefined, leaseExpiresAt: undefined, updatedAt: at };
        return write(cancelled, events, at);
      }
      if (run.cancelRequested) return run;
      const flagged: RunRecord = { ...run, cancelRequested: true, updatedAt: at };
      runs.set(id, flagged);
      return flagged;
    },

    async deleteFinished(updatedBefore, limit) {
      open();
      const doomed = [...runs.values()]
        .filter((run) => finishedStatuses.has(run.status) && run.updatedAt < updatedBefore)
        .sort((a, b) => a.updatedAt - b.updatedAt)
        .slice(0, limit);
      for (const run of doomed) {
        runs.delete(run.id);
        journals.delete(run.id);
      }
      return doomed.length;
    },

    async close() {
      closed = true;
      runs.clear();
      journals.clear();
    },
  };
}

/** Byte order of ids, as the database stores sort them (ids are ASCII, where UTF-16 order agrees). */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
