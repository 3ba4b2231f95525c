/**
 * Sessions in PostgreSQL through Bun's built-in client (Bun.sql), so several `skiff serve`
 * replicas behind a load balancer share conversations. Only postgres*.ts files import Bun.sql.
 *
 * A turn is one transaction: claim the session's next version (a conditional UPDATE, or an INSERT
 * for a new session, which row-locks it), append the messages, trim the history, COMMIT. Two
 * replicas committing on one version serialize on that row lock and the second gets a conflict;
 * a replica killed mid-commit has its transaction rolled back by the server.
 */
import { SQL } from "bun";
import type { Message } from "../model/messages.ts";
import { connectPostgres } from "./postgres-connect.ts";
import { exportPostgresSessions, importPostgresSessions } from "./postgres-transfer.ts";
import { type CommitResult, type SessionStore, SessionStoreError, type StoredSession } from "./store.ts";
import { historyDropCount } from "./trim-history.ts";

/** Knobs for tests and tuning; the defaults suit a replica. */
export interface PostgresStoreOptions {
  readonly now?: () => number;
  /** Connections per replica (default 10): a commit holds one for a few round trips only. */
  readonly maxConnections?: number;
  /** Seconds to wait for a connection to open (default 10). */
  readonly connectTimeoutSec?: number;
}

/**
 * Connects, migrates the schema (refusing one newer than this binary knows) and returns the store.
 * The URL's password never appears in the description, errors or logs.
 */
export async function createPostgresSessionStore(url: string, options: PostgresStoreOptions = {}): Promise<SessionStore> {
  const now = options.now ?? Date.now;
  const { sql, where, guard, fail } = await connectPostgres(url, {
    now,
    maxConnections: options.maxConnections ?? 10,
    ...(options.connectTimeoutSec === undefined ? {} : { connectTimeoutSec: options.connectTimeoutSec }),
    name: "session database",
    fail: (message, cause) => new SessionStoreError(message, { cause }),
    passThrough: (error) => error instanceof SessionStoreError,
  });

  return {
    description: where,
    get: (id) =>
      guard("read a session", async (): Promise<StoredSession | undefined> => {
        // One statement, so the version and the messages come from one snapshot.
        const rows = await sql<{ version: number; created_at: string; updated_at: string; body: string | null }[]>`
          SELECT s.version, s.created_at, s.updated_at, m.body
          FROM skiff_sessions s LEFT JOIN skiff_messages m ON m.session_id = s.id
          WHERE s.id = ${id} ORDER BY m.seq`;
        const first = rows[0];
        if (!first) return undefined;
        const messages = rows.flatMap((row) => (row.body === null ? [] : [JSON.parse(row.body) as Message]));
        return { id, messages, version: first.version, createdAt: Number(first.created_at), updatedAt: Number(first.updated_at) };
      }),

    commitTurn: (id, turn) =>
      guard("save a turn", () =>
        sql.begin(async (tx): Promise<CommitResult> => {
          const at = now();
          const runId = turn.runId ?? null;
          // A commit by the run the session remembers writes nothing: it is answered below.
          const claimed =
            turn.expectedVersion === 0
              ? await tx<{ version: number }[]>`
                  INSERT INTO skiff_sessions (id, version, created_at, updated_at, last_run_id) VALUES (${id}, 1, ${at}, ${at}, ${runId})
                  ON CONFLICT (id) DO NOTHING RETURNING version`
              : await tx<{ version: number }[]>`
                  UPDATE skiff_sessions SET version = version + 1, updated_at = ${at}, last_run_id = COALESCE(${runId}::text, last_run_id)
                  WHERE id = ${id} AND version = ${turn.expectedVersion} AND (${runId}::text IS NULL OR last_run_id IS DISTINCT FROM ${runId}::text)
                  RETURNING version`;
          const version = claimed[0]?.version;
          if (version === undefined) {
            const [current] = await tx<{ version: number; last_run_id: string | null }[]>`
              SELECT version, last_run_id FROM skiff_sessions WHERE id = ${id}`;
            // This run's turn is already in (it committed before a crash and was recovered).
            if (current && runId !== null && current.last_run_id === runId) return { ok: true, version: current.version };
            return { ok: false, reason: "conflict", version: current?.version ?? 0 };
          }
          const existing = await tx<{ seq: number; role: Message["role"] }[]>`
            SELECT seq, role FROM skiff_messages WHERE session_id = ${id} ORDER BY seq`;
          let seq = existing.at(-1)?.seq ?? 0;
          const rows = turn.messages.map((message) => ({ session_id: id, seq: ++seq, role: message.role, body: JSON.stringify(message) }));
          if (rows.length > 0) await tx`INSERT INTO skiff_messages ${tx(rows)}`;
          const all = [...existing, ...rows];
          const drop = historyDropCount(
            all.map((row) => row.role),
            turn.maxMessages,
          );
          if (drop > 0) await tx`DELETE FROM skiff_messages WHERE session_id = ${id} AND seq < ${drop < all.length ? all[drop]!.seq : seq + 1}`;
          // The caller gave up waiting (a frozen server that has just come back): roll back rather
          // than commit a turn its client was told was not saved.
          turn.signal?.throwIfAborted();
          return { ok: true, version };
        }),
      ),

    delete: (id) => guard("delete a session", async () => (await sql`DELETE FROM skiff_sessions WHERE id = ${id}`).count > 0),

    deleteExpired: (updatedBefore, limit) =>
      guard("delete expired sessions", async () => {
        // SKIP LOCKED: a session whose turn is being committed right now is not expired; every
        // replica sweeps, and none waits for another.
        const deleted = await sql`
          WITH doomed AS (
            SELECT id FROM skiff_sessions WHERE updated_at < ${updatedBefore}
            ORDER BY updated_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)
          DELETE FROM skiff_sessions s USING doomed WHERE s.id = doomed.id`;
        return deleted.count;
      }),

    async *exportSessions() {
      try {
        yield* exportPostgresSessions(sql);
      } catch (error) {
        throw fail("export sessions", error);
      }
    },

    async importSessions(sessions, { replace }) {
      try {
        return await importPostgresSessions(sql, sessions, replace, where);
      } catch (error) {
        // Errors of the input (a bad line) pass through as they are; only database errors are wrapped.
        throw isPostgresError(error) ? fail("import sessions", error) : error;
      }
    },

    ping: () =>
      guard("answer a probe", async () => {
        await sql`SELECT 1`;
      }),

    close: () => guard("close", () => sql.close({ timeout: 5 })),
  };
}

function isPostgresError(error: unknown): boolean {
  return error instanceof SQL.PostgresError || (error instanceof Error && error.name === "PostgresError");
}

export { describePostgresError } from "./postgres-errors.ts";
