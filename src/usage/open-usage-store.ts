/** Opens the usage store a SessionsSpec names. Wiring only (wire-serve.ts): it imports the adapters. */
import { ConfigError, configIssue } from "../errors.ts";
import type { SessionsSpec } from "../sessions/sessions-spec.ts";
import { createMemoryUsageStore } from "./memory-usage.ts";
import { createPostgresUsageStore } from "./postgres-usage.ts";
import { createSqliteUsageStore } from "./sqlite-usage.ts";
import { type KeyUsageStore, UsageStoreError } from "./usage-store.ts";

/**
 * Opens keys' counters beside the sessions `spec` names (memory, the same SQLite file, the same
 * Postgres database), migrating its schema. A database that cannot be opened is a ConfigError on
 * `server.sessions`, as for the session store.
 */
export async function openUsageStore(spec: SessionsSpec): Promise<KeyUsageStore> {
  try {
    switch (spec.kind) {
      case "memory":
        return createMemoryUsageStore();
      case "sqlite":
        return createSqliteUsageStore(spec.path);
      case "postgres":
        return await createPostgresUsageStore(spec.url);
      default: {
        const unknown: never = spec;
        throw new Error(`unknown usage store ${JSON.stringify(unknown)}`);
      }
    }
  } catch (error) {
    if (!(error instanceof UsageStoreError)) throw error;
    throw new ConfigError([configIssue("server.sessions", error.message, { code: "unavailable" })], { cause: error });
  }
}
