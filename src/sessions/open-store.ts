/** Opens the store a SessionsSpec names. Wiring only (main.ts and its helpers): it imports the adapters. */
import { ConfigError } from "../errors.ts";
import { createMemorySessionStore } from "./memory.ts";
import type { SessionsSpec } from "./sessions-spec.ts";
import { createSqliteSessionStore } from "./sqlite.ts";
import { type SessionStore, SessionStoreError } from "./store.ts";

/**
 * Opens the session store for `spec`. A database that cannot be opened is a ConfigError on
 * `server.sessions` (exit code 2): the setting, or the directory it names, needs fixing.
 */
export function openSessionStore(spec: SessionsSpec): SessionStore {
  switch (spec.kind) {
    case "memory":
      return createMemorySessionStore();
    case "sqlite":
      try {
        return createSqliteSessionStore(spec.path);
      } catch (error) {
        if (!(error instanceof SessionStoreError)) throw error;
        throw new ConfigError([{ path: "server.sessions", message: error.message }], { cause: error });
      }
    default: {
      const unknown: never = spec;
      throw new Error(`unknown session store ${JSON.stringify(unknown)}`);
    }
  }
}
