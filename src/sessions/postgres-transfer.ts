/** Export and import for the Postgres store: a consistent snapshot out, one transaction in. */
import type { SQL } from "bun";
import type { Message } from "../model/messages.ts";
import { type ImportResult, SessionExistsError, type StoredSession } from "./store.ts";

interface SessionRow {
  id: string;
  version: number;
  // bigint columns arrive as text unless the client asks for BigInt.
  created_at: string;
  updated_at: string;
}

/** Sessions read per query while exporting. */
const pageSize = 200;
/** Message rows per INSERT while importing; far below Postgres's 65,535 parameters per statement. */
const insertChunk = 1_000;

/**
 * Every session, ordered by id, from one REPEATABLE READ snapshot on a reserved connection:
 * replicas go on committing turns, and the export sees none of them half way.
 */
export async function* exportPostgresSessions(sql: SQL): AsyncGenerator<StoredSession> {
  const connection = await sql.reserve();
  try {
    await connection`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`;
    let after = "";
    for (;;) {
      const page = await connection<SessionRow[]>`
        SELECT id, version, created_at, updated_at FROM skiff_sessions WHERE id > ${after} ORDER BY id LIMIT ${pageSize}`;
      if (page.length === 0) break;
      const last = page.at(-1)!.id;
      // The page is exactly the sessions in (after, last], so one range scan of the primary key
      // fetches all their messages.
      const bodies = await connection<{ session_id: string; body: string }[]>`
        SELECT session_id, body FROM skiff_messages WHERE session_id > ${after} AND session_id <= ${last} ORDER BY session_id, seq`;
      const messages = new Map<string, Message[]>();
      for (const row of bodies) {
        const list = messages.get(row.session_id) ?? [];
        list.push(JSON.parse(row.body) as Message);
        messages.set(row.session_id, list);
      }
      for (const row of page) {
        yield {
          id: row.id,
          messages: messages.get(row.id) ?? [],
          version: row.version,
          createdAt: Number(row.created_at),
          updatedAt: Number(row.updated_at),
        };
      }
      if (page.length < pageSize) break;
      after = last;
    }
    await connection`COMMIT`;
  } finally {
    // Released inside an open transaction (the consumer stopped early), Bun closes the connection
    // instead of pooling it, which ends the transaction too.
    await connection.release();
  }
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
