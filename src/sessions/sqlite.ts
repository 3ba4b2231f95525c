/**
 * Sessions in a SQLite file (bun:sqlite), the default store of `skiff serve`. WAL mode, one
 * IMMEDIATE transaction per finished turn: a crash, `kill -9` or power loss leaves the previous
 * turn or the new one, never half of one. Only sqlite*.ts files in src/ import bun:sqlite.
 */
import type { Message } from "../model/messages.ts";
import { openSqliteFile } from "./sqlite-file.ts";
import { exportSqliteSessions, importSqliteSessions } from "./sqlite-transfer.ts";
import { type CommitResult, type SessionStore, SessionStoreError, type StoredSession, type TurnCommit } from "./store.ts";
import { historyDropCount } from "./trim-history.ts";

interface SessionRow {
  version: number;
  created_at: number;
  updated_at: number;
  last_run_id: string | null;
}

/** Opens (creating when needed, and migrating to the current schema) the session database at `path`. */
export function createSqliteSessionStore(path: string, options: { now?: () => number } = {}): SessionStore {
  const now = options.now ?? Date.now;
  const db = openSqliteFile(path, {
    now,
    name: `session database ${path}`,
    fail: (message, cause) => new SessionStoreError(message, { cause }),
    passThrough: (error) => error instanceof SessionStoreError,
  });

  const selectSession = db.query<SessionRow, [string]>("SELECT version, created_at, updated_at, last_run_id FROM sessions WHERE id = ?");
  const selectBodies = db.query<{ body: string }, [string]>("SELECT body FROM messages WHERE session_id = ? ORDER BY seq");
  const selectRoles = db.query<{ seq: number; role: Message["role"] }, [string]>(
    "SELECT seq, role FROM messages WHERE session_id = ? ORDER BY seq",
  );
  const selectLastSeq = db.query<{ last: number }, [string]>("SELECT COALESCE(MAX(seq), 0) AS last FROM messages WHERE session_id = ?");
  const insertSession = db.query("INSERT INTO sessions (id, version, created_at, updated_at, last_run_id) VALUES (?, 1, ?, ?, ?)");
  const bumpSession = db.query("UPDATE sessions SET version = version + 1, updated_at = ?, last_run_id = COALESCE(?, last_run_id) WHERE id = ?");
  const insertMessage = db.query("INSERT INTO messages (session_id, seq, role, body) VALUES (?, ?, ?, ?)");
  const deleteBefore = db.query("DELETE FROM messages WHERE session_id = ? AND seq < ?");
  const deleteMessages = db.query("DELETE FROM messages WHERE session_id = ?");
  const deleteSession = db.query("DELETE FROM sessions WHERE id = ?");
  // Served by the sessions_by_updated_at index (schema 2).
  const selectExpired = db.query<{ id: string }, [number, number]>("SELECT id FROM sessions WHERE updated_at < ? ORDER BY updated_at LIMIT ?");

  // A read transaction, so the version and the messages come from one snapshot.
  const read = db.transaction((id: string): StoredSession | undefined => {
    const row = selectSession.get(id);
    if (!row) return undefined;
    const messages = selectBodies.all(id).map((r) => JSON.parse(r.body) as Message);
    return { id, messages, version: row.version, createdAt: row.created_at, updatedAt: row.updated_at };
  });

  const commit = db.transaction((id: string, turn: TurnCommit): CommitResult => {
    const row = selectSession.get(id);
    const version = row?.version ?? 0;
    // This run's turn is already in (it committed before a crash and was recovered).
    if (turn.runId !== undefined && turn.runId === row?.last_run_id) return { ok: true, version };
    if (version !== turn.expectedVersion) return { ok: false, reason: "conflict", version };
    const at = now();
    if (row) bumpSession.run(at, turn.runId ?? null, id);
    else insertSession.run(id, at, at, turn.runId ?? null);
    let seq = selectLastSeq.get(id)?.last ?? 0;
    for (const message of turn.messages) insertMessage.run(id, ++seq, message.role, JSON.stringify(message));
    const rows = selectRoles.all(id);
    const drop = historyDropCount(
      rows.map((r) => r.role),
      turn.maxMessages,
    );
    if (drop > 0) deleteBefore.run(id, drop < rows.length ? rows[drop]!.seq : seq + 1);
    return { ok: true, version: version + 1 };
  });

  const remove = db.transaction((id: string): boolean => {
    deleteMessages.run(id);
    return deleteSession.run(id).changes > 0;
  });

  const expire = db.transaction((before: number, limit: number): number => {
    const ids = selectExpired.all(before, limit);
    for (const { id } of ids) {
      deleteMessages.run(id);
      deleteSession.run(id);
    }
    return ids.length;
  });

  const guard = <T>(what: string, work: () => T): T => {
    try {
      return work();
    } catch (error) {
      throw new SessionStoreError(`could not ${what} in the session database ${path}: ${messageOf(error)}`, { cause: error });
    }
  };

  const description = `sqlite:${path}`;
  return {
    description,
    async get(id) {
      return guard("read a session", () => read(id));
    },
    async commitTurn(id, turn) {
      // The caller has given up waiting: write nothing (the commit itself is synchronous).
      turn.signal?.throwIfAborted();
      // IMMEDIATE takes the write lock first, so two processes on one file cannot interleave a turn.
      return guard("save a turn", () => commit.immediate(id, turn));
    },
    async delete(id) {
      return guard("delete a session", () => remove.immediate(id));
    },
    async deleteExpired(updatedBefore, limit) {
      return guard("delete expired sessions", () => expire.immediate(updatedBefore, limit));
    },
    exportSessions() {
      return exportSqliteSessions(path);
    },
    async importSessions(sessions, { replace }) {
      try {
        return await importSqliteSessions(path, sessions, replace, description);
      } catch (error) {
        if (error instanceof SessionStoreError || !isSqliteError(error)) throw error;
        throw new SessionStoreError(`could not import sessions into the session database ${path}: ${messageOf(error)}`, { cause: error });
      }
    },
    async ping() {
      guard("answer a probe", () => db.query("SELECT 1").get());
    },
    async close() {
      // Merges the WAL back into the main file so a copied .db is complete on its own.
      guard("close", () => {
        db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
        db.close();
      });
    },
  };
}


function isSqliteError(error: unknown): boolean {
  return error instanceof Error && (error.name === "SQLiteError" || /^SQLITE_/.test(String((error as { code?: unknown }).code ?? "")));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
