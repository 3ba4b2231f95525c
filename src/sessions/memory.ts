import type { Message } from "../model/messages.ts";
import type { CommitResult, SessionStore, StoredSession, TurnCommit } from "./store.ts";
import { trimHistory } from "./trim-history.ts";

/**
 * Sessions in process memory: the default for `ask`/`chat`, and for tests. Lost on exit and not
 * shared between processes. Stored arrays are never mutated, only replaced, so `get` hands them
 * out without copying.
 */
export function createMemorySessionStore(options: { now?: () => number } = {}): SessionStore {
  const now = options.now ?? Date.now;
  const sessions = new Map<string, StoredSession>();
  let closed = false;
  const open = () => {
    if (closed) throw new Error("the memory session store is closed");
  };
  return {
    description: "memory",
    async get(id) {
      open();
      return sessions.get(id);
    },
    async commitTurn(id: string, commit: TurnCommit): Promise<CommitResult> {
      open();
      const current = sessions.get(id);
      const version = current?.version ?? 0;
      if (version !== commit.expectedVersion) return { ok: false, reason: "conflict", version };
      const at = now();
      const messages: readonly Message[] = trimHistory([...(current?.messages ?? []), ...commit.messages], commit.maxMessages);
      sessions.set(id, { id, messages, version: version + 1, createdAt: current?.createdAt ?? at, updatedAt: at });
      return { ok: true, version: version + 1 };
    },
    async delete(id) {
      open();
      return sessions.delete(id);
    },
    async close() {
      closed = true;
      sessions.clear();
    },
  };
}
