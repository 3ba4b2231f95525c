/**
 * Composition of `skiff serve`: reads the token, opens the session store, builds the runtime and
 * the app, listens, and shuts down gracefully on SIGTERM/SIGINT. Like wire.ts, only dispatch.ts
 * imports it: it is where the server meets concrete adapters.
 */
import { bunListenBacklog } from "./platform/listen-backlog.ts";
import { approvalPolicy } from "./agent/approval.ts";
import { loadOutputSchemaFile } from "./cli/output-schema-file.ts";
import { runSettings } from "./cli/run-limits.ts";
import type { Config, SecretSources } from "./config/index.ts";
import { ConfigError, configIssue, formatIssuePath } from "./errors.ts";
import { createApp } from "./server/app.ts";
import { keyConfigIssues } from "./server/key-checks.ts";
import { keyReloader } from "./server/reload-keys.ts";
import { createLogger, type Logger } from "./server/logger.ts";
import { errorCodeOf } from "./server/run-errors.ts";
import { startGcPacer } from "./platform/gc-pacer.ts";
import { startupDone } from "./platform/jit-policy.ts";
import { bytecodeLayout } from "./platform/bytecode-layout.ts";
import { RunTracker } from "./server/run-tracker.ts";
import { serveStartup } from "./server/serve-startup.ts";
import { chooseListener } from "./server/inherited-listener.ts";
import { openServiceStatus } from "./server/service-status.ts";
import { type RunningServer, serve } from "./server/serve.ts";
import { shutdownGracefully } from "./server/shutdown.ts";
import { boundSessionStore, type SessionStore, startSessionSweeper, type Sweeper } from "./sessions/index.ts";
import { openSessionStore } from "./sessions/open-store.ts";
import type { ExecutorCounters } from "./runs/executor.ts";
import { boundRunStore } from "./runs/bounded-run-store.ts";
import { openRunStore } from "./runs/open-run-store.ts";
import type { RunStore } from "./runs/run-store.ts";
import { buildRuntime, missingApiKeys, type Runtime } from "./wire.ts";
import { boundUsageStore } from "./usage/bounded-usage-store.ts";
import { openUsageStore } from "./usage/open-usage-store.ts";
import type { KeyUsageStore } from "./usage/usage-store.ts";

export interface ServeCommandOptions {
  readonly config: Config;
  readonly secrets: SecretSources;
  readonly cwd: string;
  /** Log lines go here (stderr). */
  readonly write: (line: string) => void;
  /** Registers the handler for SIGTERM and SIGINT. */
  readonly onSignal: (handler: (signal: string) => void) => void;
  /** Registers the handler for SIGHUP: keys and token are read again (server/reload-keys.ts). */
  readonly onReload?: (handler: () => void) => void;
  /** Reads the config again (flags, environment, file) for a reload; throws ConfigError when invalid. */
  readonly reloadConfig?: () => Config;
}

/** Seconds an idle kept-alive connection stays open; event streams ping every 10 s, well within it. */
const idleTimeoutSec = 30;

/** Runs the HTTP service until SIGTERM/SIGINT, then shuts down gracefully; resolves to the exit code. */
export async function serveCommand(options: ServeCommandOptions): Promise<number> {
  const { config, secrets } = options;
  const settings = config.server;
  const { address: configured, token, sessions: spec } = serveStartup(config, secrets, options.cwd);
  // systemd's socket, when it passed one: taken before any child process starts (close-on-exec).
  const { address, inherited, note } = chooseListener(configured, secrets.env, process.pid, token !== undefined || settings.keys.length > 0);
  const logger = createLogger({ level: settings.log_level, format: settings.log_format, write: options.write });
  if (note) logger.log(inherited ? "info" : "debug", note);
  // Read before anything is opened: a bad schema file stops start-up with nothing to clean up.
  const defaultSchema = config.output_schema === undefined ? undefined : await loadOutputSchemaFile(config.output_schema, config.output_schema_retries, undefined);

  const store = await openSessionStore(spec);
  // Runs live beside the sessions: the same SQLite file or Postgres database (memory: not durable).
  let runStore: RunStore;
  try {
    runStore = boundRunStore(await openRunStore(spec), settings.store_timeout);
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
  // Keys' counters too (memory: per process).
  let usageStore: KeyUsageStore;
  try {
    usageStore = boundUsageStore(await openUsageStore(spec), settings.store_timeout);
  } catch (error) {
    await store.close().catch(() => {});
    await runStore.close().catch(() => {});
    throw error;
  }
  const runSweeper = settings.runs_retention ? startRunSweeper(runStore, settings.runs_retention, logger) : undefined;
  // The sweep and the final close wait for the store no longer than requests do (the app bounds its own calls).
  const boundedStore = boundSessionStore(store, { timeoutMs: settings.store_timeout });
  const sweeper = startSweeper(boundedStore, settings.session_ttl, logger);
  const closeStore = async () => {
    await sweeper?.stop();
    await runSweeper?.stop();
    await boundedStore.close();
    await runStore.close();
    await usageStore.close();
  };
  let runtime: Awaited<ReturnType<typeof buildRuntime>>;
  try {
    runtime = await buildRuntime({
      config,
      secrets,
      metrics: true,
      // A missing key fails each run with a 401, not start-up: said once here, in the log.
      requireApiKey: false,
      warn: (line) => logger.log("warn", line.trim()),
      log: ({ level, msg, ...fields }) => logger.log(level, msg, fields),
    });
  } catch (error) {
    await closeStore();
    throw error;
  }
  const toolNames = runtime.tools.map((tool) => tool.name);
  const keyIssues = keyConfigIssues(config, { names: toolNames });
  if (keyIssues.length > 0) {
    await runtime.shutdown();
    await closeStore();
    throw new ConfigError(keyIssues);
  }

  const runs = new RunTracker(settings.max_concurrent);
  const stopGcPacer = startGcPacer({ intervalMs: settings.gc_interval, busy: () => runs.size > 0 });
  const { limits, price } = runSettings(config);
  const app = createApp({
    model: runtime.model,
    tools: runtime.tools,
    tracer: runtime.tracer,
    store,
    runStore,
    runs,
    limits,
    settings: {
      maxBodyBytes: settings.max_body,
      maxTimeoutMs: settings.max_timeout,
      maxHistoryMessages: settings.max_history_messages,
      bodyTimeoutMs: settings.body_timeout,
      storeTimeoutMs: settings.store_timeout,
      runLeaseMs: settings.run_lease,
      approvalTimeoutMs: settings.approval_timeout,
    },
    ...(config.tools.require_approval.length === 0 ? {} : { requiresApproval: approvalPolicy(config.tools.require_approval) }),
    system: config.system,
    outputSchema: { retries: config.output_schema_retries, ...(defaultSchema === undefined ? {} : { default: defaultSchema }) },
    ui: settings.ui,
    logger,
    ...(token === undefined ? {} : { authToken: token }),
    apiKeys: settings.keys,
    usageStore,
    ...(price === undefined ? {} : { price }),
    extraMetrics: () =>
      `${runtime.metrics?.renderPrometheus() ?? ""}${droppedSpansMetric(runtime.droppedSpans?.() ?? 0)}${runCountersMetric(app.executor.counters)}`,
  });

  let server: RunningServer;
  try {
    server = serve(app, {
      hostname: address.hostname,
      port: address.port,
      ...(inherited ? { inherited } : {}),
      idleTimeoutSec,
      maxRequestBodySize: Math.max(2 * settings.max_body, settings.max_body + 1024 * 1024),
    });
  } catch (error) {
    await runtime.shutdown();
    await closeStore();
    if (inherited) throw new ConfigError([configIssue("LISTEN_FDS", error instanceof Error ? error.message : String(error), { code: "unavailable" })], { cause: error });
    throw listenError(settings.listen, error);
  }

  // The SIGTERM handler is in place before anyone can learn the server is up (the listening
  // line, READY=1): a signal sent right after either drains instead of killing the process.
  const service = openServiceStatus({ env: secrets.env, pid: process.pid, runs, logger });
  const stopped = waitForShutdown(options, logger, (hurry) =>
    shutdownGracefully({
      runs,
      server,
      timeoutMs: settings.shutdown_timeout,
      logger,
      hurry,
      ...(service ? { status: service.status } : {}),
      cleanup: [
        // After the drain: runs still going were aborted and gave their leases back by now.
        ["run executor", async () => app.executor.stop()],
        ["gc pacer", async () => stopGcPacer()],
        ["telemetry", runtime.shutdown],
        ["session store", closeStore],
      ],
    }),
  );
  logger.log("info", "listening", {
    url: server.url,
    model: runtime.model.name,
    tools: runtime.tools.length,
    sessions: store.description,
    replica: app.executor.replica,
    durable_runs: runStore.durable,
    auth: token === undefined ? (settings.keys.length > 0 ? "keys" : "none") : settings.keys.length > 0 ? "bearer+keys" : "bearer",
    keys: settings.keys.length,
    max_concurrent: settings.max_concurrent,
    backlog: "backlog" in server.backlog ? server.backlog.backlog : server.inherited ? "systemd's" : bunListenBacklog,
    pid: process.pid,
  });
  // Requests compile as eagerly as ever; what ran before this stays interpreted (platform/jit-policy.ts).
  startupDone();
  const layout = bytecodeLayout();
  if (layout) logger.log("debug", "bytecode layout", { ...layout });
  if ("unchanged" in server.backlog && !server.inherited) logger.log("debug", "listen backlog left at Bun's 512", { reason: server.backlog.unchanged });
  if (token === undefined && settings.keys.length === 0) logger.log("warn", "no auth token or keys set: /v1/ routes are open to every local client");
  const reloadConfig = options.reloadConfig;
  if (reloadConfig) {
    const reload = keyReloader({ keys: app.keys, load: reloadConfig, started: config, secrets, address, toolNames, logger });
    options.onReload?.(() => {
      logger.log("info", "signal received", { signal: "SIGHUP" });
      reload();
    });
  }
  for (const issue of missingApiKeys(config, secrets)) logger.log("warn", `${formatIssuePath(issue.path)}: ${issue.message}; runs will fail until one is set`);

  // systemd (Type=notify): READY=1 once requests are answered and SIGTERM drains (its handler is
  // set), then status lines and watchdog pings.
  service?.status.ready(server.url);
  await stopped;
  service?.close();
  return 0;
}

/** Resolves after the shutdown the first signal starts; a second signal hurries it. */
function waitForShutdown(options: ServeCommandOptions, logger: Logger, shutdown: (hurry: Promise<void>) => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let hurryNow: (() => void) | undefined;
    const hurry = new Promise<void>((wake) => (hurryNow = wake));
    let started = false;
    options.onSignal((signal) => {
      if (started) {
        logger.log("warn", "second signal: aborting runs now", { signal });
        hurryNow?.();
        return;
      }
      started = true;
      logger.log("info", "signal received", { signal });
      void shutdown(hurry).then(resolve);
    });
  });
}

/** The session_ttl sweep, when a TTL is set; its log lines carry counts and error codes, never content. */
function startSweeper(store: SessionStore, ttlMs: number | undefined, logger: Logger): Sweeper | undefined {
  if (!ttlMs) return undefined;
  return startSessionSweeper(store, {
    ttlMs,
    onSwept: (count) => logger.log("info", "sessions expired", { count, session_ttl_ms: ttlMs }),
    onError: (error) => logger.log("warn", "session sweep failed; retrying next interval", { error_code: errorCodeOf(error) }),
  });
}

function listenError(listen: string, error: unknown): ConfigError {
  const code = error instanceof Error && "code" in error ? String(error.code) : "";
  const detail = code === "EADDRINUSE" ? "the address is already in use (another skiff or service?)" : error instanceof Error ? error.message : String(error);
  return new ConfigError([configIssue("server.listen", `cannot listen on ${listen}: ${detail}`, { code: "unavailable" })], { cause: error });
}

/** The telemetry drop counter for /metrics (0 when spans are not exported, so alerts can rely on it). */
function droppedSpansMetric(dropped: number): string {
  return [
    "# HELP skiff_otel_spans_dropped_total Spans not exported because the export queue (otel.max_queue_size) was full.",
    "# TYPE skiff_otel_spans_dropped_total counter",
    `skiff_otel_spans_dropped_total ${dropped}`,
    "",
  ].join("\n");
}

/** The runs_retention sweep: finished runs and their events go once they are older than the retention. */
function startRunSweeper(store: RunStore, retentionMs: number, logger: Logger): Sweeper {
  return startSessionSweeper(
    { deleteExpired: (before, limit) => store.deleteFinished(before, limit) },
    {
      ttlMs: retentionMs,
      onSwept: (count) => logger.log("info", "finished runs removed", { count, runs_retention_ms: retentionMs }),
      onError: (error) => logger.log("warn", "run retention sweep failed; retrying next interval", { error_code: errorCodeOf(error) }),
    },
  );
}

/** Durable-run counters for /metrics. */
function runCountersMetric(counters: ExecutorCounters): string {
  return [
    "# HELP skiff_runs_recovered_total Runs this replica resumed from the journal of an attempt whose replica stopped.",
    "# TYPE skiff_runs_recovered_total counter",
    `skiff_runs_recovered_total ${counters.runsRecovered}`,
    "# HELP skiff_run_leases_lost_total Runs this replica stopped because another replica took over their lease.",
    "# TYPE skiff_run_leases_lost_total counter",
    `skiff_run_leases_lost_total ${counters.leasesLost}`,
    "# HELP skiff_run_journal_writes_total Writes of run events (journal entries and final results) by this replica.",
    "# TYPE skiff_run_journal_writes_total counter",
    `skiff_run_journal_writes_total ${counters.journalWrites}`,
    "",
  ].join("\n");
}
