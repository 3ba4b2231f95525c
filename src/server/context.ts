import { hostname } from "node:os";
import { RunExecutor } from "../runs/executor.ts";
import { createMemoryRunStore } from "../runs/memory-runs.ts";
import { expireApprovals } from "./approvals.ts";
import { executeBackground } from "./durable-runs.ts";
import { errorCodeOf } from "./run-errors.ts";
import { type BoundedSessionStore, boundSessionStore } from "../sessions/index.ts";
import { noopTracer, type Tracer } from "../telemetry/tracer.ts";
import type { AppDeps } from "./deps.ts";
import { KeyLimiter } from "./key-limiter.ts";
import { type Caller, KeyRing } from "./key-ring.ts";
import { boundUsageStore } from "../usage/bounded-usage-store.ts";
import { createMemoryUsageStore } from "../usage/memory-usage.ts";
import { type Logger, silentLogger } from "./logger.ts";
import { createServerMetrics, type ServerMetrics } from "./metrics.ts";
import type { BodyLimits } from "./read-body.ts";
import { createHeartbeat, type Heartbeat } from "./sse.ts";

/** What every route handler gets: the deps with defaults filled in, plus per-app state. */
export interface AppContext {
  readonly deps: AppDeps;
  readonly tracer: Tracer;
  readonly logger: Logger;
  readonly metrics: ServerMetrics;
  readonly heartbeat: Heartbeat;
  /** The session store with server.store_timeout on every operation; routes use this, never deps.store. */
  readonly store: BoundedSessionStore;
  /** server.max_body and server.body_timeout, for readJsonBody. */
  readonly bodyLimits: BodyLimits;
  /** Sessions with a run in progress: a second request on one of them gets 409. */
  readonly busySessions: Set<string>;
  readonly newId: () => string;
  readonly now: () => number;
  /** Durable runs on this replica: leases, claims, cancels, and the run store. */
  readonly executor: RunExecutor;
  /** The current keys and token (replaced on reload). */
  readonly keys: KeyRing;
  /** Each key's limits and usage counters. */
  readonly limiter: KeyLimiter;
}

/** Fills in defaults once per app. */
export function createContext(deps: AppDeps): AppContext {
  const base = {
    deps,
    tracer: deps.tracer ?? noopTracer,
    logger: deps.logger ?? silentLogger,
    metrics: deps.metrics ?? createServerMetrics(),
    heartbeat: createHeartbeat(deps.settings.heartbeatMs ?? 10_000),
    store: boundSessionStore(deps.store, { timeoutMs: deps.settings.storeTimeoutMs ?? 10_000 }),
    bodyLimits: { maxBytes: deps.settings.maxBodyBytes, timeoutMs: deps.settings.bodyTimeoutMs ?? 30_000 },
    busySessions: new Set<string>(),
    newId: deps.newId ?? (() => `run_${crypto.randomUUID().replaceAll("-", "")}`),
    now: deps.now ?? Date.now,
  };
  const keys = new KeyRing({ keys: deps.apiKeys ?? [], token: deps.authToken }, deps.tools);
  const usageStore = boundUsageStore(deps.usageStore ?? createMemoryUsageStore(), deps.settings.storeTimeoutMs ?? 10_000);
  const limiter = new KeyLimiter({ store: usageStore, now: base.now, ...(deps.price === undefined ? {} : { price: deps.price }) });
  const replica = deps.replica ?? defaultReplicaName();
  const leaseMs = deps.settings.runLeaseMs ?? 15_000;
  const executor = new RunExecutor({
    store: deps.runStore ?? createMemoryRunStore(),
    replica,
    leaseMs,
    // Renewals well within the lease, and cancels from other replicas noticed within half a second.
    tickMs: Math.min(500, Math.max(50, Math.floor(leaseMs / 3))),
    takeSlot: () => {
      const admission = deps.runs.admit(detached);
      return typeof admission === "string" ? undefined : admission;
    },
    // Called only after this function has returned, when a run is claimed.
    execute: (claimed) => executeBackground(context, claimed, replica),
    warn: (message, error) => base.logger.log("warn", message, { error_code: error === undefined ? undefined : errorCodeOf(error) }),
    now: base.now,
  });
  const context: AppContext = { ...base, executor, keys, limiter };
  if (deps.requiresApproval) {
    const timeoutMs = deps.settings.approvalTimeoutMs ?? 3_600_000;
    // A tenth of the timeout, between 1 s and 1 min: a denial comes at most that late.
    executor.every(Math.min(60_000, Math.max(1_000, Math.floor(timeoutMs / 10))), "the approval_timeout sweep", async () => {
      if ((await expireApprovals(executor.store, timeoutMs, base.now())) > 0) executor.poke();
    });
  }
  return context;
}

/** The signal of a background run's slot: no client can go away, only shutdown aborts it. */
const detached = new AbortController().signal;

/** A name unique to this process: host, pid and a random suffix (pids repeat across restarts). */
function defaultReplicaName(): string {
  return `${hostname()}:${process.pid}:${crypto.randomUUID().slice(0, 8)}`;
}

/** Per-request facts for the request's log line, filled in by the route as it learns them. */
export interface RequestInfo {
  /** Route pattern, e.g. `/v1/sessions/{id}`. */
  route: string;
  /** Who sent the request (set for /v1/ routes once authenticated). */
  caller?: Caller;
  /** The name of the request's key, for the log line (never the key). */
  keyName?: string;
  runId?: string;
  traceId?: string;
  sessionId?: string;
  outcome?: string;
  /**
   * The status to log when it is not the response's: 499 for a stream whose client went away
   * (the 200 was sent, but nobody read the end).
   */
  status?: number;
  /** Stable code of the error behind a 5xx, for the log (never its content). */
  errorCode?: string;
  /** For streamed responses: settles when the stream ends, so the line is written then. */
  finished?: Promise<void>;
}
