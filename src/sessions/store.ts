import { SkiffError } from "../errors.ts";
import type { Message } from "../model/messages.ts";

/** A session id: chosen by clients, safe in URLs, logs and file names. */
export const sessionIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

/** What a bad session id is told. */
export const sessionIdRule = "use 1 to 128 of A-Z a-z 0-9 . _ : -";

/** A conversation as stored: everything but system messages, oldest first. */
export interface StoredSession {
  readonly id: string;
  readonly messages: readonly Message[];
  /** Turns committed so far; the optimistic-concurrency token `commitTurn` checks. */
  readonly version: number;
  /** Epoch ms. */
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** One finished turn to append. */
export interface TurnCommit {
  /** The `version` the turn started from (0 for a new session); another value means someone else wrote. */
  readonly expectedVersion: number;
  /** The turn's messages: the user's input, then everything the run added. */
  readonly messages: readonly Message[];
  /** Bound on the stored history; the oldest whole turns are dropped first (see `historyDropCount`). */
  readonly maxMessages: number;
  /**
   * Aborts when the caller has stopped waiting (the store did not answer in time). A store that
   * can still roll the turn back does, so a turn the client was told is unsaved does not appear
   * once the database answers again.
   */
  readonly signal?: AbortSignal;
  /**
   * The durable run committing this turn. The session remembers the newest one given, and a commit
   * by the run it remembers is acknowledged with the current version without writing anything,
   * whatever `expectedVersion` says: a run recovered after a crash may commit again a turn it had
   * already committed before the crash.
   */
  readonly runId?: string;
}

/** How a commit ended: written, or refused because the session moved on since it was read. */
export type CommitResult =
  | { readonly ok: true; readonly version: number }
  | { readonly ok: false; readonly reason: "conflict"; readonly version: number };

/** What an import wrote. */
export interface ImportResult {
  /** Sessions written, replaced ones included. */
  readonly imported: number;
  /** Of those, how many overwrote a session that already existed (only with `replace`). */
  readonly replaced: number;
}

/**
 * Where conversations live between runs. Every method is async so a networked store (Postgres)
 * fits the same port. A turn is written in one atomic step or not at all: a crash never leaves
 * half a turn. `test/sessions/store-contract.ts` is the one suite every implementation passes.
 */
export interface SessionStore {
  /** A human-readable name for logs, e.g. `sqlite:/var/lib/skiff/skiff.db`. */
  readonly description: string;
  /** The session, or undefined when there is none with this id. */
  get(id: string): Promise<StoredSession | undefined>;
  /** Appends one finished turn atomically and trims the history; creates the session on first use. */
  commitTurn(id: string, commit: TurnCommit): Promise<CommitResult>;
  /** Deletes the session; false when it did not exist. */
  delete(id: string): Promise<boolean>;
  /**
   * Deletes up to `limit` sessions whose last turn is older than `updatedBefore` (epoch ms), oldest
   * first, and says how many went. Where rows are locked (Postgres), a session whose turn is being
   * committed right now is skipped rather than waited for.
   */
  deleteExpired(updatedBefore: number, limit: number): Promise<number>;
  /** Every session, ordered by id, read from one consistent snapshot (a backup or an upgrade path). */
  exportSessions(): AsyncIterable<StoredSession>;
  /**
   * Writes sessions exactly as given (versions and timestamps kept) in one transaction: all of them
   * or none. An id that already exists fails the import with SessionExistsError unless `replace`.
   */
  importSessions(sessions: AsyncIterable<StoredSession>, options: { readonly replace: boolean }): Promise<ImportResult>;
  /** Resolves when the store answers the cheapest query it has (readiness probes). */
  ping(): Promise<void>;
  /** Flushes and releases the store; later calls fail. */
  close(): Promise<void>;
}

/** The session store could not be opened or used (bad path, locked or corrupt database). */
export class SessionStoreError extends SkiffError {
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? "session_store", message, { cause: options?.cause });
  }
}

/** An import met a session id the store already holds, and was not asked to replace it. */
export class SessionExistsError extends SessionStoreError {
  readonly sessionId: string;

  constructor(sessionId: string, where: string) {
    super(`session "${sessionId}" already exists in ${where}`, { code: "session_exists" });
    this.sessionId = sessionId;
  }
}
