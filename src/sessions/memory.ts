import type { Message } from "../model/messages.ts";
import { type CommitResult, SessionExistsError, type SessionStore, type StoredSession, type TurnCommit } from "./store.ts";
import { trimHistory } from "./trim-history.ts";

/**
 * Sessions in process memory: the default for `ask`/`chat`, and for tests. Lost on exit and not
 * shared between processes. Stored arrays are never mutated, only replaced, so `get` hands them
 * out without copying.
 */
export function createMemorySessionStore(options: { now?: () => number } = {}): SessionStore {
  const now = options.now ?? Date.now;
  const sessions = new Map<string, StoredSession>();
  // The newest TurnCommit.runId of each stored session object: a deleted or replaced session
  // forgets it with the object.
  const lastRunIds = new WeakMap<StoredSession, string>();
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
      commit.signal?.throwIfAborted();
      const current = sessions.get(id);
      const version = current?.version ?? 0;
      const lastRunId = current ? lastRunIds.get(current) : undefined;
      if (commit.runId !== undefined && commit.runId === lastRunId) return { ok: true, version };
      if (version !== commit.expectedVersion) return { ok: false, reason: "conflict", version };
      const at = now();
      const messages: readonly Message[] = trimHistory([...(current?.messages ?? []), ...commit.messages], commit.maxMessages);
      const next: StoredSession = { id, messages, version: version + 1, createdAt: current?.createdAt ?? at, updatedAt: at };
      sessions.set(id, next);
      const runId = commit.runId ?? lastRunId;
      if (runId !== undefined) lastRunIds.set(next, runId);
      return { ok: true, version: version + 1 };
    },
    async delete(id) {
      open();
      return sessions.delete(id);
    },
    async deleteExpired(updatedBefore, limit) {
      open();
      const expired = [...sessions.values()]
        .filter((session) => session.updatedAt < updatedBefore)
        .sort((a, b) => a.updatedAt - b.updatedAt)
        .slice(0, limit);
      for (const session of expired) sessions.delete(session.id);
      return expired.length;
    },
    async *exportSessions() {
      open();
      // A copy of the map is the snapshot: commits during the export do not show in it.
      const snapshot = [...sessions.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      yield* snapshot;
    },
    async importSessions(source, { replace }) {
      open();
      // Collected first and applied in one synchronous step, so a failed import changes nothing
      // and commits made while the input was read are not lost.
      const incoming = new Map<string, StoredSession>();
      let repeated = 0;
      for await (const session of source) {
        if (incoming.has(session.id)) {
          if (!replace) throw new SessionExistsError(session.id, "memory");
          repeated++;
        }
        incoming.set(session.id, session);
      }
      let replaced = repeated;
      for (const id of incoming.keys()) {
        if (!sessions.has(id)) continue;
        if (!replace) throw new SessionExistsError(id, "memory");
        replaced++;
      }
      for (const [id, session] of incoming) sessions.set(id, session);
      return { imported: incoming.size + repeated, replaced };
    },
    async ping() {
      open();
    },
    async close() {
      closed = true;
      sessions.clear();
    },
  };
}
