/**
 * Versioned, forward-only schema migrations, shared by the SQLite and Postgres stores. Each store
 * keeps its own list in its own SQL dialect; the version numbers mean the same thing in both, so
 * "schema 2" is one set of features whichever database holds it.
 */
import { SessionStoreError } from "./store.ts";

/** One forward-only step of a store's schema. */
export interface Migration {
  /** The schema version this step produces; steps are numbered 1, 2, 3… without gaps. */
  readonly version: number;
  /** What it changes, recorded next to the version in the database. */
  readonly description: string;
  /** The statements, in the store's SQL dialect. */
  readonly sql: string;
}

/** The newest version a migration list produces: the schema this binary writes. */
export function latestVersion(migrations: readonly Migration[]): number {
  return migrations.at(-1)?.version ?? 0;
}

/**
 * The migrations a database at schema `current` still needs, in order. A database newer than this
 * binary knows is refused: an older skiff cannot know what a newer schema means, and writing to
 * it could lose what the newer one stores.
 */
export function pendingMigrations(current: number, migrations: readonly Migration[], where: string): readonly Migration[] {
  const known = latestVersion(migrations);
  if (current > known) {
    throw new SessionStoreError(
      `the session database ${where} has schema version ${current}, but this skiff only knows versions up to ${known}: ` +
        "a newer skiff has migrated it. Run the newer skiff, or export with it (skiff sessions export) and import into a fresh store",
      { code: "schema_too_new" },
    );
  }
  return migrations.filter((migration) => migration.version > current);
}
