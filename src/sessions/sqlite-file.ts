/**
 * Opening skiff's SQLite file, the one way every store does it (sessions, runs, key usage): the
 * same file, the same pragmas, the same migrations, whichever store opens it first.
 */
import { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { migrateSqlite } from "./sqlite-schema.ts";

/** How a store names itself and turns a failure into its own error class. */
export interface SqliteFileOptions {
  readonly now: () => number;
  /** What the store is called in messages, e.g. `session database /var/lib/skiff/skiff.db`. */
  readonly name: string;
  /** The store's error for `message` (with the error that caused it, if any). */
  readonly fail: (message: string, cause?: unknown) => Error;
  /** Errors passed through as they are (the store's own, already explained). */
  readonly passThrough?: (error: unknown) => boolean;
}

/** Opens (creating when needed, and migrating to the current schema) the SQLite file at `path`. */
export function openSqliteFile(path: string, options: SqliteFileOptions): Database {
  const dir = dirname(path);
  if (!existsSync(dir)) {
    throw options.fail(`the directory of the ${options.name} does not exist; create ${dir} or choose another path with --sessions sqlite:PATH`);
  }
  let db: Database | undefined;
  try {
    db = new Database(path, { create: true, strict: true });
    // First: switching a file to WAL needs an exclusive lock, so a process opening the file while
    // another one converts or migrates it must wait for the lock instead of failing at once.
    db.exec("PRAGMA busy_timeout = 5000");
    // WAL: readers never block the writer. NORMAL: a commit survives a process crash; only power
    // loss may roll back the newest writes, and then whole transactions, never half of one.
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    migrateSqlite(db, path, options.now);
    return db;
  } catch (error) {
    db?.close();
    if (options.passThrough?.(error)) throw error;
    throw options.fail(`could not open the ${options.name}: ${error instanceof Error ? error.message : String(error)}`, error);
  }
}
