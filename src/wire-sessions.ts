/** Wiring for `skiff chat --session ID`. Like wire.ts, only main.ts imports it: it opens a concrete store. */
import { ChatSession } from "./cli/chat-session.ts";
import type { Config } from "./config/index.ts";
import { UsageError } from "./errors.ts";
import { parseSessionsSpec, sessionIdPattern, sessionIdRule, type SpecContext } from "./sessions/index.ts";
import { openSessionStore } from "./sessions/open-store.ts";

/**
 * Opens the store for `--session ID`: `server.sessions` when set, else the same default as
 * `serve` (SQLite under $STATE_DIRECTORY or ./skiff.db), so a chat and a local service share
 * conversations. Undefined without `--session`.
 */
export function openChatSession(
  id: string | undefined,
  config: Config,
  context: SpecContext,
): { readonly chat: ChatSession; close(): Promise<void> } | undefined {
  if (id === undefined) return undefined;
  if (!sessionIdPattern.test(id)) throw new UsageError(`--session "${id}" is not a valid session id: ${sessionIdRule}`);
  const store = openSessionStore(parseSessionsSpec(config.server.sessions, "sqlite", context));
  return {
    chat: new ChatSession({ store, id, maxMessages: config.server.max_history_messages }),
    close: () => store.close(),
  };
}
