/**
 * Connecting to skiff's Postgres database, the one way every store does it (sessions, runs, key
 * usage): a pool, the schema migrated (one replica migrates while the others wait), and a guard
 * that turns what the database says into the store's own error, naming the store without its
 * password. Only postgres*.ts files import Bun.sql.
 */
import { SQL } from "bun";
import { redactUrl } from "../util/redact-url.ts";
import { migratePostgres } from "./postgres-schema.ts";
import { describePostgresError } from "./postgres-errors.ts";

/** How a store connects and names its failures. */
export interface PostgresConnectOptions {
  readonly now: () => number;
  /** Connections in the pool. */
  readonly maxConnections: number;
  /** Seconds to wait for a connection to open (default 10). */
  readonly connectTimeoutSec?: number;
  /** What the store is called in messages, before its URL: `session database`, `run store`. */
  readonly name: string;
  /** The store's error for `message`, caused by `cause`. */
  readonly fail: (message: string, cause: unknown) => Error;
  /** Errors passed through as they are (the store's own, already explained). */
  readonly passThrough: (error: unknown) => boolean;
}

/** A connected, migrated pool, the store's description, and its guard for every operation. */
export interface PostgresConnection {
  readonly sql: SQL;
  /** The URL without its password, for descriptions and messages. */
  readonly where: string;
  /** Runs `work`, turning a database failure into the store's error saying what it could not do. */
  guard<T>(what: string, work: () => Promise<T>): Promise<T>;
  /** The store's error for a failure while doing `what`. */
  fail(what: string, error: unknown): Error;
}

/** Connects and migrates; the pool is closed again when migrating fails. */
export async function connectPostgres(url: string, options: PostgresConnectOptions): Promise<PostgresConnection> {
  const where = redactUrl(url);
  const fail = (what: string, error: unknown): Error =>
    options.passThrough(error) ? (error as Error) : options.fail(`could not ${what} in the ${options.name} ${where}: ${describePostgresError(error)}`, error);
  let sql: SQL;
  try {
    sql = new SQL(url, { max: options.maxConnections, connectionTimeout: options.connectTimeoutSec ?? 10, idleTimeout: 60 });
  } catch (error) {
    throw fail("connect", error);
  }
  try {
    await migratePostgres(sql, where, options.now);
  } catch (error) {
    await sql.close({ timeout: 0 }).catch(() => {});
    throw fail("open (connect and migrate the schema)", error);
  }
  return {
    sql,
    where,
    fail,
    async guard(what, work) {
      try {
        return await work();
      } catch (error) {
        throw fail(what, error);
      }
    },
  };
}
