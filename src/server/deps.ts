import type { OutputSchema, PriceFunction, RunLimits } from "../agent/index.ts";
import type { ApiKeyEntry } from "../config/sections/api-keys.ts";
import type { Model } from "../model/model.ts";
import type { RunStore } from "../runs/run-store.ts";
import type { SessionStore } from "../sessions/index.ts";
import type { Tracer } from "../telemetry/tracer.ts";
import type { Tool } from "../tools/tool.ts";
import type { KeyUsageStore } from "../usage/usage-store.ts";
import type { Logger } from "./logger.ts";
import type { ServerMetrics } from "./metrics.ts";
import type { RunTracker } from "./run-tracker.ts";

/** What the HTTP app needs; dispatch.ts wires the real ones, tests pass fakes. */
export interface AppDeps {
  readonly model: Model;
  readonly tools: readonly Tool[];
  readonly store: SessionStore;
  /** Tools whose calls wait for a person's decision (tools.require_approval); none by default. */
  readonly requiresApproval?: (toolName: string) => boolean;
  /** Where runs and their events are kept (default: in memory, not durable). */
  readonly runStore?: RunStore;
  /** This process's name in run leases and events (default: host, pid and a random suffix). */
  readonly replica?: string;
  /** Admission (max_concurrent) and shutdown state, shared with whoever drives shutdown. */
  readonly runs: RunTracker;
  /** The configured limits; a request may lower max_steps and choose its timeout up to maxTimeoutMs. */
  readonly limits: RunLimits;
  readonly settings: ServerSettings;
  /** Serve the web console at /ui/ (server.ui); default true. */
  readonly ui?: boolean;
  /** Bearer token required on /v1/ routes; none means open (loopback only, checked at start). */
  readonly authToken?: string;
  /** Client keys (`[[server.keys]]`), each with its limits and tools; with keys, /v1/ routes need a credential. */
  readonly apiKeys?: readonly ApiKeyEntry[];
  /** Where keys' counters live (default: in memory, per process). */
  readonly usageStore?: KeyUsageStore;
  /** Structured output: the configured schema for runs that name none (`output_schema`), and `output_schema_retries`. */
  readonly outputSchema?: { readonly default?: OutputSchema; readonly retries: number };
  /** The configured system prompt, put before every conversation ("" for none). */
  readonly system?: string;
  readonly tracer?: Tracer;
  readonly price?: PriceFunction;
  readonly logger?: Logger;
  readonly metrics?: ServerMetrics;
  /** More Prometheus text appended to /metrics (e.g. the GenAI histograms telemetry records). */
  readonly extraMetrics?: () => string;
  /** Run ids; default `run_` + 32 random hex characters. */
  readonly newId?: () => string;
  /** Epoch ms, for `created` timestamps. */
  readonly now?: () => number;
}

/** The `[server]` settings the app enforces per request. */
export interface ServerSettings {
  /** Largest request body in bytes (413 above). */
  readonly maxBodyBytes: number;
  /** Longest run timeout a request may ask for, in ms. */
  readonly maxTimeoutMs: number;
  /** Messages kept per session; oldest turns dropped first. */
  readonly maxHistoryMessages: number;
  /** Time to receive a whole request body, in ms (default 30 s; 0: no limit): slower gets 408. */
  readonly bodyTimeoutMs?: number;
  /** Longest wait for one session store operation, in ms (default 10 s; 0: no limit): then 503. */
  readonly storeTimeoutMs?: number;
  /** How often an open event stream gets a keep-alive comment, in ms (default 10 s). */
  readonly heartbeatMs?: number;
  /** How long a replica's claim on a run lasts unless renewed, in ms (default 15 s). */
  readonly runLeaseMs?: number;
  /** How long a run waits for approval decisions before the undecided calls are denied, in ms (default 1 h). */
  readonly approvalTimeoutMs?: number;
}
