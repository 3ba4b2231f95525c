/** Opens the run store a SessionsSpec names. Wiring only (main.ts and its helpers): it imports the adapters. */
import { ConfigError, configIssue } from "../errors.ts";
import type { SessionsSpec } from "../sessions/sessions-spec.ts";
import { createMemoryRunStore } from "./memory-runs.ts";
import { createPostgresRunStore } from "./postgres-runs.ts";
import { type RunStore, RunStoreError } from "./run-store.ts";
import { createSqliteRunStore } from "./sqlite-runs.ts";

/**
 * Opens the run store beside the session store `spec` names: runs live in the same database as
 * the sessions (memory, the same SQLite file, the same Postgres database), migrating its schema. A
 * database that cannot be opened is a ConfigError on `server.sessions` (exit code 2), as for the
 * session store.
 */
export async function openRunStore(spec: SessionsSpec): Promise<RunStore> {
  try {
    switch (spec.kind) {
      case "memory":
        return createMemoryRunStore();
      case "sqlite":
        return createSqliteRunStore(spec.path);
      case "postgres":
        return await createPostgresRunStore(spec.url);
      default: {
        const unknown: never = spec;
        throw new Error(`unknown run store ${JSON.stringify(unknown)}`);
      }
    }
  } catch (error) {
    if (!(error instanceof RunStoreError)) throw error;
    throw new ConfigError([configIssue("server.sessions", error.message, { code: "unavailable" })], { cause: error });
  }
}
