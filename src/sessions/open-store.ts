/** Opens the store a SessionsSpec names. Wiring only (main.ts and its helpers): it imports the adapters. */
import { createMemorySessionStore } from "./memory.ts";
import { createPostgresSessionStore } from "./postgres.ts";
import { openStoreFor, type SessionsSpec } from "./sessions-spec.ts";
import { createSqliteSessionStore } from "./sqlite.ts";
import { type SessionStore, SessionStoreError } from "./store.ts";

/** Opens the session store for `spec`, migrating its schema; a database that cannot be opened is a ConfigError (openStoreFor). */
export function openSessionStore(spec: SessionsSpec): Promise<SessionStore> {
  return openStoreFor(
    spec,
    { memory: () => createMemorySessionStore(), sqlite: (path) => createSqliteSessionStore(path), postgres: (url) => createPostgresSessionStore(url) },
    SessionStoreError,
  );
}
