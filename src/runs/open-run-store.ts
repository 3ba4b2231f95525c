/** Opens the run store a SessionsSpec names. Wiring only (main.ts and its helpers): it imports the adapters. */
import { openStoreFor, type SessionsSpec } from "../sessions/sessions-spec.ts";
import { createMemoryRunStore } from "./memory-runs.ts";
import { createPostgresRunStore } from "./postgres-runs.ts";
import { type RunStore, RunStoreError } from "./run-store.ts";
import { createSqliteRunStore } from "./sqlite-runs.ts";

/**
 * Opens the run store beside the session store `spec` names: runs live in the same database as
 * the sessions (memory, the same SQLite file, the same Postgres database), migrating its schema;
 * a database that cannot be opened is a ConfigError on `server.sessions` (openStoreFor).
 */
export function openRunStore(spec: SessionsSpec): Promise<RunStore> {
  return openStoreFor(
    spec,
    { memory: () => createMemoryRunStore(), sqlite: (path) => createSqliteRunStore(path), postgres: (url) => createPostgresRunStore(url) },
    RunStoreError,
  );
}
