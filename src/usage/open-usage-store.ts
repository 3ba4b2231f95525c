/** Opens the usage store a SessionsSpec names. Wiring only (wire-serve.ts): it imports the adapters. */
import { openStoreFor, type SessionsSpec } from "../sessions/sessions-spec.ts";
import { createMemoryUsageStore } from "./memory-usage.ts";
import { createPostgresUsageStore } from "./postgres-usage.ts";
import { createSqliteUsageStore } from "./sqlite-usage.ts";
import { type KeyUsageStore, UsageStoreError } from "./usage-store.ts";

/**
 * Opens keys' counters beside the sessions `spec` names (memory, the same SQLite file, the same
 * Postgres database), migrating its schema; a database that cannot be opened is a ConfigError on
 * `server.sessions` (openStoreFor).
 */
export function openUsageStore(spec: SessionsSpec): Promise<KeyUsageStore> {
  return openStoreFor(
    spec,
    { memory: () => createMemoryUsageStore(), sqlite: (path) => createSqliteUsageStore(path), postgres: (url) => createPostgresUsageStore(url) },
    UsageStoreError,
  );
}
