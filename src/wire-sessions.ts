/** Wiring for the commands that open the session store besides serve: `skiff chat --session ID`, `skiff sessions` and `skiff runs`. Like wire.ts, only the commands' runs (src/commands/) import it. */
import { existsSync } from "node:fs";
import { ChatSession } from "./cli/chat-session.ts";
import type { Terminal } from "./cli/io.ts";
import type { Config } from "./config/index.ts";
import { UsageError } from "./errors.ts";
import { errorCodeOf } from "./server/run-errors.ts";
import { parseSessionsSpec, sessionIdPattern, sessionIdRule, type SessionStore, type SpecContext, startSessionSweeper } from "./sessions/index.ts";
import { openSessionStore } from "./sessions/open-store.ts";
import { openRunStore } from "./runs/open-run-store.ts";
import type { RunStore } from "./runs/run-store.ts";

/**
 * Opens the store for `--session ID`: `server.sessions` when set, else the same default as
 * `serve` (SQLite under $STATE_DIRECTORY or ./skiff.db), so a chat and a local service share
 * conversations. `server.session_ttl` applies here too. Undefined without `--session`.
 */
export async function openChatSession(
  id: string | undefined,
  config: Config,
  context: SpecContext,
  terminal: Terminal,
): Promise<{ readonly chat: ChatSession; close(): Promise<void> } | undefined> {
  if (id === undefined) return undefined;
  if (!sessionIdPattern.test(id)) throw new UsageError(`--session "${id}" is not a valid session id: ${sessionIdRule}`);
  const store = await openConfiguredStore(config, context);
  const ttlMs = config.server.session_ttl;
  const sweeper = ttlMs
    ? startSessionSweeper(store, { ttlMs, onError: (error) => terminal.err(`(session sweep failed: ${errorCodeOf(error)}; retrying later)\n`) })
    : undefined;
  return {
    chat: new ChatSession({ store, id, maxMessages: config.server.max_history_messages }),
    async close() {
      await sweeper?.stop();
      await store.close();
    },
  };
}

/**
 * The store `server.sessions` names, with serve's default (SQLite), for `skiff sessions export|import`.
 * With `mustExist` (export), a SQLite file that is not there is an error rather than a new empty one.
 */
export function openConfiguredStore(config: Config, context: SpecContext, options: { readonly mustExist?: boolean } = {}): Promise<SessionStore> {
  const spec = parseSessionsSpec(config.server.sessions, "sqlite", context);
  if (options.mustExist && spec.kind === "sqlite" && !existsSync(spec.path)) {
    throw new UsageError(`there is no session database at ${spec.path} to export; name the store with --sessions (sqlite:PATH or postgres://…)`);
  }
  return openSessionStore(spec);
}

/**
 * The run store beside `server.sessions` (serve's default SQLite file), for `skiff runs`. A SQLite
 * file that is not there is an error: there would be no runs in a new one.
 */
export function openConfiguredRunStore(config: Config, context: SpecContext): Promise<RunStore> {
  const spec = parseSessionsSpec(config.server.sessions, "sqlite", context);
  if (spec.kind === "sqlite" && !existsSync(spec.path)) {
    throw new UsageError(`there is no database at ${spec.path} to read runs from; name the store with --sessions (sqlite:PATH or postgres://…)`);
  }
  if (spec.kind === "memory") throw new UsageError("--sessions memory keeps runs inside the serving process only; name the store skiff serve uses (sqlite:PATH or postgres://…)");
  return openRunStore(spec);
}
