import { noopTracer, type Tracer } from "../telemetry/tracer.ts";
import type { AppDeps } from "./deps.ts";
import { type Logger, silentLogger } from "./logger.ts";
import { createServerMetrics, type ServerMetrics } from "./metrics.ts";
import { createHeartbeat, type Heartbeat } from "./sse.ts";

/** What every route handler gets: the deps with defaults filled in, plus per-app state. */
export interface AppContext {
  readonly deps: AppDeps;
  readonly tracer: Tracer;
  readonly logger: Logger;
  readonly metrics: ServerMetrics;
  readonly heartbeat: Heartbeat;
  /** Sessions with a run in progress: a second request on one of them gets 409. */
  readonly busySessions: Set<string>;
  readonly newId: () => string;
  readonly now: () => number;
}

/** Fills in defaults once per app. */
export function createContext(deps: AppDeps): AppContext {
  return {
    deps,
    tracer: deps.tracer ?? noopTracer,
    logger: deps.logger ?? silentLogger,
    metrics: deps.metrics ?? createServerMetrics(),
    heartbeat: createHeartbeat(deps.settings.heartbeatMs ?? 10_000),
    busySessions: new Set(),
    newId: deps.newId ?? (() => `run_${crypto.randomUUID().replaceAll("-", "")}`),
    now: deps.now ?? Date.now,
  };
}

/** Per-request facts for the request's log line, filled in by the route as it learns them. */
export interface RequestInfo {
  /** Route pattern, e.g. `/v1/sessions/{id}`. */
  route: string;
  runId?: string;
  traceId?: string;
  sessionId?: string;
  outcome?: string;
  /** Stable code of the error behind a 5xx, for the log (never its content). */
  errorCode?: string;
  /** For streamed responses: settles when the stream ends, so the line is written then. */
  finished?: Promise<void>;
}
