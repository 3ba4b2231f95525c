/**
 * A RunStore whose every operation gives up after a time limit (server.store_timeout), for the
 * same reason as the session store's: a frozen database never answers. A timed-out write is a
 * RunStoreError like any other store failure: the run stops, and its lease lets another replica
 * (or this one, once the database answers again) resume it.
 */
import { formatDuration } from "../util/duration.ts";
import { withTimeLimit } from "../util/time-limit.ts";
import { type FinalStatus, type NewRun, type NewRunEvent, type RunChange, type RunStatus, type RenewResult, type RunEvent, type RunListQuery, type RunRecord, type RunStore, RunStoreError } from "./run-store.ts";

/** Wraps `store` so each operation rejects with RunStoreError after `timeoutMs` (0: no limit). */
export function boundRunStore(store: RunStore, timeoutMs: number): RunStore {
  return timeoutMs > 0 ? new BoundedRunStore(store, timeoutMs) : store;
}

class BoundedRunStore implements RunStore {
  readonly #inner: RunStore;
  readonly #limitMs: number;

  constructor(inner: RunStore, limitMs: number) {
    this.#inner = inner;
    this.#limitMs = limitMs;
  }

  get description(): string {
    return this.#inner.description;
  }

  get durable(): boolean {
    return this.#inner.durable;
  }

  create(run: NewRun): Promise<RunRecord> {
    return this.bounded("record the run", () => this.#inner.create(run));
  }

  get(id: string): Promise<RunRecord | undefined> {
    return this.bounded("read the run", () => this.#inner.get(id));
  }

  list(query: RunListQuery): Promise<readonly RunRecord[]> {
    return this.bounded("list runs", () => this.#inner.list(query));
  }

  events(id: string, afterSeq: number, limit: number): Promise<readonly RunEvent[]> {
    return this.bounded("read the run's events", () => this.#inner.events(id, afterSeq, limit));
  }

  append(id: string, owner: string, events: readonly NewRunEvent[]): Promise<number> {
    return this.bounded("write the run's journal", () => this.#inner.append(id, owner, events));
  }

  setTraceId(id: string, owner: string, traceId: string): Promise<void> {
    return this.bounded("record the run's trace id", () => this.#inner.setTraceId(id, owner, traceId));
  }

  claim(owner: string, leaseMs: number, limit: number): Promise<readonly RunRecord[]> {
    return this.bounded("claim runs", () => this.#inner.claim(owner, leaseMs, limit));
  }

  renew(owner: string, ids: readonly string[], leaseMs: number): Promise<RenewResult> {
    return this.bounded("renew run leases", () => this.#inner.renew(owner, ids, leaseMs));
  }

  release(id: string, owner: string): Promise<void> {
    return this.bounded("release the run", () => this.#inner.release(id, owner));
  }

  finish(id: string, owner: string, status: FinalStatus, result: string, events: readonly NewRunEvent[]): Promise<number> {
    return this.bounded("record how the run ended", () => this.#inner.finish(id, owner, status, result, events));
  }

  advance(id: string, expected: { readonly status: RunStatus; readonly lastSeq: number }, change: RunChange): Promise<number | undefined> {
    return this.bounded("move the run on", () => this.#inner.advance(id, expected, change));
  }

  requestCancel(id: string, result: string, events: readonly NewRunEvent[]): Promise<RunRecord | undefined> {
    return this.bounded("cancel the run", () => this.#inner.requestCancel(id, result, events));
  }

  deleteFinished(updatedBefore: number, limit: number): Promise<number> {
    return this.bounded("delete finished runs", () => this.#inner.deleteFinished(updatedBefore, limit));
  }

  close(): Promise<void> {
    return this.bounded("close", () => this.#inner.close());
  }

  private bounded<T>(what: string, work: () => Promise<T>): Promise<T> {
    const limit = this.#limitMs;
    return withTimeLimit(limit, () => new RunStoreError(`the run store (${this.#inner.description}) did not ${what} within ${formatDuration(limit)}`), work);
  }
}
