/** Opens the store a SessionsSpec names. Wiring only (main.ts and its helpers): it imports the adapters. */
import { ConfigError, configIssue } from "../errors.ts";
import { createMemorySessionStore } from "./memory.ts";
import { createPostgresSessionStore } from "./postgres.ts";
import type { SessionsSpec } from "./sessions-spec.ts";
import { createSqliteSessionStore } from "./sqlite.ts";
import { type SessionStore, SessionStoreError } from "./store.ts";

/**
 * Opens the session store for `spec`, migrating its schema. A database that cannot be opened
 * (missing directory, unreachable server, schema newer than this binary) is a ConfigError on
 * `server.sessions` (exit code 2): the setting, or what it points at, needs fixing.
 */
export async function openSessionStore(spec: SessionsSpec): Promise<SessionStore> {
  try {
    switch (spec.kind) {
      case "memory":
        return createMemorySessionStore();
      case "sqlite":
        return createSqliteSessionStore(spec.path);
      case "postgres":
        return await createPostgresSessionStore(spec.url);
      default: {
        const unknown: never = spec;
        throw new Error(`unknown session store ${JSON.stringify(unknown)}`);
      }
    }
  } catch (error) {
    if (!(error instanceof SessionStoreError)) throw error;
    throw new ConfigError([configIssue("server.sessions", error.message, { code: "unavailable" })], { cause: error });
  }
}
