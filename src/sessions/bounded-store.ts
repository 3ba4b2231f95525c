/**
 * A SessionStore whose every operation gives up after a time limit. A frozen database (a stopped
 * or hung server, a network that drops packets without a reset) never answers, and Bun's SQL
 * client cannot help: its `Query.cancel()` asks the server to cancel on a second connection,
 * which a frozen server never answers either. So each operation is raced against a timer, and the caller gets a
 * SessionStoreTimeoutError while the abandoned query finishes, or not, on its own.
 */
import { formatDuration } from "../util/duration.ts";
import { withTimeLimit } from "../util/time-limit.ts";
import { type CommitResult, type ImportResult, type SessionStore, SessionStoreError, type StoredSession, type TurnCommit } from "./store.ts";

/** A store operation did not answer within its time limit. */
export class SessionStoreTimeoutError extends SessionStoreError {
  /** The limit that passed, in ms. */
  readonly timeoutMs: number;

  constructor(message: string, timeoutMs: number) {
    super(message, { code: "session_store_timeout" });
    this.timeoutMs = timeoutMs;
  }
}

/** The store with a time limit on each operation, plus `within` for a request's own deadline and a readiness probe. */
export interface BoundedSessionStore extends SessionStore {
  /** The limit every operation gets (server.store_timeout); 0: none. */
  readonly timeoutMs: number;
  /** The same store with each operation bounded by `ms` as well (what is left of a request's time). */
  within(ms: number): SessionStore;
  /**
   * Resolves when the store answers `ping()` within the limit. A ping still unanswered after the
   * limit fails every probe at once until it answers, so readiness checks do not pile up on a
   * frozen database, and the first answer marks the store ready again.
   */
  probe(): Promise<void>;
}

/**
 * Wraps `store` so each operation rejects with SessionStoreTimeoutError after `timeoutMs` (0: no
 * limit). The export and import streams are passed through unbounded: they are the CLI's long,
 * deliberate operations, not a request's.
 */
export function boundSessionStore(store: SessionStore, options: { readonly timeoutMs: number; readonly now?: () => number }): BoundedSessionStore {
  return new BoundedStore(store, options.timeoutMs, options.now ?? Date.now);
}

/** One operation under a limit; `signal` aborts when the limit passes. No limit: runs as it is. */
function bounded<T>(limitMs: number, what: string, work: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
  return withTimeLimit(limitMs, () => new SessionStoreTimeoutError(`the session store did not ${what} within ${formatDuration(limitMs)}`, limitMs), work);
}

/** The store seen through one limit. A class, so a request's view costs one small object. */
class BoundedView implements SessionStore {
  readonly #inner: SessionStore;
  readonly #limitMs: number;

  constructor(inner: SessionStore, limitMs: number) {
    this.#inner = inner;
    this.#limitMs = limitMs;
  }

  get description(): string {
    return this.#inner.description;
  }

  get(id: string): Promise<StoredSession | undefined> {
    return bounded(this.#limitMs, "read the session", () => this.#inner.get(id));
  }

  commitTurn(id: string, commit: TurnCommit): Promise<CommitResult> {
    return bounded(this.#limitMs, "save the turn", (signal) => this.#inner.commitTurn(id, signal === undefined ? commit : { ...commit, signal }));
  }

  delete(id: string): Promise<boolean> {
    return bounded(this.#limitMs, "delete the session", () => this.#inner.delete(id));
  }

  deleteExpired(updatedBefore: number, limit: number): Promise<number> {
    return bounded(this.#limitMs, "delete expired sessions", () => this.#inner.deleteExpired(updatedBefore, limit));
  }

  exportSessions(): AsyncIterable<StoredSession> {
    return this.#inner.exportSessions();
  }

  importSessions(sessions: AsyncIterable<StoredSession>, options: { readonly replace: boolean }): Promise<ImportResult> {
    return this.#inner.importSessions(sessions, options);
  }

  ping(): Promise<void> {
    return bounded(this.#limitMs, "answer a probe", () => this.#inner.ping());
  }

  close(): Promise<void> {
    return bounded(this.#limitMs, "close", () => this.#inner.close());
  }
}

class BoundedStore extends BoundedView implements BoundedSessionStore {
  readonly timeoutMs: number;
  readonly #inner: SessionStore;
  readonly #now: () => number;
  /** The ping in flight, shared by concurrent probes; cleared when it answers. */
  #ping: { readonly started: number; readonly answer: Promise<void> } | undefined;

  constructor(inner: SessionStore, timeoutMs: number, now: () => number) {
    super(inner, timeoutMs);
    this.#inner = inner;
    this.timeoutMs = timeoutMs;
    this.#now = now;
  }

  within(ms: number): SessionStore {
    return new BoundedView(this.#inner, this.timeoutMs > 0 ? Math.min(this.timeoutMs, ms) : ms);
  }

  probe(): Promise<void> {
    const now = this.#now();
    let ping = this.#ping;
    if (ping === undefined) {
      const current = { started: now, answer: this.#inner.ping() };
      const settle = () => {
        if (this.#ping === current) this.#ping = undefined;
      };
      current.answer.then(settle, settle);
      this.#ping = ping = current;
    }
    if (!(this.timeoutMs > 0)) return ping.answer;
    const left = ping.started + this.timeoutMs - now;
    if (left <= 0) {
      const message = `the session store has not answered a probe for ${formatDuration(now - ping.started)} (its limit is ${formatDuration(this.timeoutMs)})`;
      return Promise.reject(new SessionStoreTimeoutError(message, this.timeoutMs));
    }
    const answer = ping.answer;
    return bounded(left, "answer a probe", () => answer).catch((error: unknown) => {
      throw error instanceof SessionStoreTimeoutError
        ? new SessionStoreTimeoutError(`the session store did not answer a probe within ${formatDuration(this.timeoutMs)}`, this.timeoutMs)
        : error;
    });
  }
}
