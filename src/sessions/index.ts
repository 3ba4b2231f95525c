/** Conversation storage: the SessionStore port. Adapters (memory.ts, sqlite.ts) are imported by path from wiring only. */
export {
  type CommitResult,
  sessionIdPattern,
  sessionIdRule,
  type SessionStore,
  SessionStoreError,
  type StoredSession,
  type TurnCommit,
} from "./store.ts";
export { historyDropCount, trimHistory } from "./trim-history.ts";
export { parseSessionsSpec, type SessionsSpec, type SpecContext, stateDirectory } from "./sessions-spec.ts";
