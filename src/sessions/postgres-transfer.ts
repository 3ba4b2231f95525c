/** Export and import for the Postgres store: a consistent snapshot out, one transaction in. */
import type { SQL } from "bun";
import type { Message } from "../model/messages.ts";
import { type ImportResult, SessionExistsError, type StoredSession } from "./store.ts";

interface ExportRow {
  id: string;
  version: number;
  // bigint columns arrive as text unless the client asks for BigInt.
  created_at: string;
  updated_at: string;
  body: string | null;
}

/** Rows fetched from the export cursor at a time. */
const fetchSize = 1_000;
/** Message rows per INSERT while importing; far below Postgres's 65,535 parameters per statement. */
const insertChunk = 1_000;

/**
 * Every session, ordered by id byte by byte (as SQLite and the memory store order them, whatever
 * the database's collation), from one REPEATABLE READ snapshot on a reserved connection: replicas
 * go on committing turns, and the export sees none of them half way. One cursor over sessions
 * joined with their messages streams the store without holding it in memory.
 */
export async function* exportPostgresSessions(sql: SQL): AsyncGenerator<StoredSession> {
  const connection = await sql.reserve();
  try {
    await connection`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`;
    await connection`
      DECLARE skiff_export NO SCROLL CURSOR FOR
      SELECT s.id, s.version, s.created_at, s.updated_at, m.body
      FROM skiff_sessions s LEFT JOIN skiff_messages m ON m.session_id = s.id
      ORDER BY s.id COLLATE "C", m.seq`;
    let current: { row: ExportRow; messages: Message[] } | undefined;
    for (;;) {
      const rows = await connection.unsafe<ExportRow[]>(`FETCH ${fetchSize} FROM skiff_export`);
      for (const row of rows) {
        if (current && current.row.id !== row.id) yield toSession(current.row, current.messages);
        if (!current || current.row.id !== row.id) current = { row, messages: [] };
        if (row.body !== null) current.messages.push(JSON.parse(row.body) as Message);
      }
      if (rows.length < fetchSize) break;
    }
    if (current) yield toSession(current.row, current.messages);
    await connection`COMMIT`;
  } finally {
    // Released inside an open transaction (the consumer stopped early), Bun closes the connection
    // instead of pooling it, which ends the transaction and its cursor too.
    await connection.release();
  }
}

function toSession(row: ExportRow, messages: Message[]): StoredSession {
  return { id: row.id, messages, version: row.version, createdAt: Number(row.created_at), updatedAt: Number(row.updated_at) };
}

/** Writes `sessions` in one transaction: all or nothing. */
export async function importPostgresSessions(
  sql: SQL,
  sessions: AsyncIterable<StoredSession>,
  replace: boolean,
  where: string,
): Promise<ImportResult> {
  return sql.begin(async (tx) => {
    let imported = 0;
    let replaced = 0;
    for await (const session of sessions) {
      // Messages go with their session (ON DELETE CASCADE).
      if (replace && (await tx`DELETE FROM skiff_sessions WHERE id = ${session.id}`).count > 0) replaced++;
      const inserted = await tx`
        INSERT INTO skiff_sessions (id, version, created_at, updated_at)
        VALUES (${session.id}, ${session.version}, ${session.createdAt}, ${session.updatedAt})
        ON CONFLICT (id) DO NOTHING RETURNING id`;
      if (inserted.length === 0) throw new SessionExistsError(session.id, where);
      const rows = session.messages.map((message, index) => ({ session_id: session.id, seq: index + 1, role: message.role, body: JSON.stringify(message) }));
      for (let start = 0; start < rows.length; start += insertChunk) {
        await tx`INSERT INTO skiff_messages ${tx(rows.slice(start, start + insertChunk))}`;
      }
      imported++;
    }
    return { imported, replaced };
  });
}
