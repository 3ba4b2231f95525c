/**
 * Export and import for the SQLite store. Each runs on a connection of its own, so its transaction
 * (a read snapshot, or the import's write lock) never mixes with the store's other work.
 */
import { Database } from "bun:sqlite";
import type { Message } from "../model/messages.ts";
import { type ImportResult, SessionExistsError, type StoredSession } from "./store.ts";

interface SessionRow {
  id: string;
  version: number;
  created_at: number;
  updated_at: number;
}

/** Sessions read per query while exporting. */
const pageSize = 100;

function connect(path: string): Database {
  const db = new Database(path, { strict: true, create: false });
  db.exec("PRAGMA busy_timeout = 5000");
  return db;
}

/** Every session in the file, ordered by id, from one read snapshot (WAL keeps it while writers go on). */
export async function* exportSqliteSessions(path: string): AsyncGenerator<StoredSession> {
  const db = connect(path);
  try {
    // A deferred transaction takes its snapshot at the first read and keeps it until COMMIT.
    db.exec("BEGIN");
    const page = db.query<SessionRow, [string, number]>("SELECT id, version, created_at, updated_at FROM sessions WHERE id > ? ORDER BY id LIMIT ?");
    const bodies = db.query<{ body: string }, [string]>("SELECT body FROM messages WHERE session_id = ? ORDER BY seq");
    let after = "";
    for (;;) {
      const rows = page.all(after, pageSize);
      for (const row of rows) {
        const messages = bodies.all(row.id).map((r) => JSON.parse(r.body) as Message);
        yield { id: row.id, messages, version: row.version, createdAt: row.created_at, updatedAt: row.updated_at };
      }
      if (rows.length < pageSize) break;
      after = rows.at(-1)!.id;
    }
    db.exec("COMMIT");
  } finally {
    db.close();
  }
}

/**
 * Writes `sessions` in one IMMEDIATE transaction: all or nothing. It holds the file's write lock
 * until the input ends, so a `skiff serve` on the same file waits (and may time out) meanwhile.
 */
export async function importSqliteSessions(
  path: string,
  sessions: AsyncIterable<StoredSession>,
  replace: boolean,
  where: string,
): Promise<ImportResult> {
  const db = connect(path);
  try {
    const exists = db.query<{ id: string }, [string]>("SELECT id FROM sessions WHERE id = ?");
    const deleteMessages = db.query("DELETE FROM messages WHERE session_id = ?");
    const deleteSession = db.query("DELETE FROM sessions WHERE id = ?");
    const insertSession = db.query("INSERT INTO sessions (id, version, created_at, updated_at) VALUES (?, ?, ?, ?)");
    const insertMessage = db.query("INSERT INTO messages (session_id, seq, role, body) VALUES (?, ?, ?, ?)");
    let imported = 0;
    let replaced = 0;
    db.exec("BEGIN IMMEDIATE");
    try {
      for await (const session of sessions) {
        if (exists.get(session.id)) {
          if (!replace) throw new SessionExistsError(session.id, where);
          deleteMessages.run(session.id);
          deleteSession.run(session.id);
          replaced++;
        }
        insertSession.run(session.id, session.version, session.createdAt, session.updatedAt);
        session.messages.forEach((message, index) => insertMessage.run(session.id, index + 1, message.role, JSON.stringify(message)));
        imported++;
      }
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
    return { imported, replaced };
  } finally {
    db.close();
  }
}
