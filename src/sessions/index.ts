/** Conversation storage: the SessionStore port. Adapters (memory.ts, sqlite.ts, postgres.ts) are imported by path from wiring only. */
export {
  type CommitResult,
  type ImportResult,
  SessionExistsError,
  sessionIdPattern,
  sessionIdRule,
  type SessionStore,
  SessionStoreError,
  type StoredSession,
  type TurnCommit,
} from "./store.ts";
export { type BoundedSessionStore, boundSessionStore, SessionStoreTimeoutError } from "./bounded-store.ts";
export { historyDropCount, trimHistory } from "./trim-history.ts";
export { parseSessionsSpec, type SessionsSpec, type SpecContext, stateDirectory } from "./sessions-spec.ts";
export { parseSessionLine, type ParsedSessionLine, sessionToJsonLine } from "./session-jsonl.ts";
export { startSessionSweeper, type Sweeper, type SweeperOptions, sweepIntervalFor } from "./sweeper.ts";
