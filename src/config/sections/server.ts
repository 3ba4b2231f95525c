import { z } from "zod";
import { duration, field, optionalDuration, size } from "../field.ts";
import { apiKeyList } from "./api-keys.ts";

const serve = ["serve", "systemd"] as const;

/** `[server]`: the HTTP service (`skiff serve`). Flags drop the `server-` prefix, as `--listen` does. */
export const serverSection = z
  .strictObject({
    listen: field(z.string().min(1).default("127.0.0.1:8080"), {
      kind: "string",
      flag: "listen",
      placeholder: "HOST:PORT",
      commands: serve,
      help: "Address to listen on; a non-loopback address needs an auth token",
    }),
    auth_token_file: field(z.string().min(1).optional(), {
      kind: "string",
      flag: "auth-token-file",
      placeholder: "PATH",
      secret: true,
      commands: serve,
      help: "File holding the bearer token required on /v1/ routes (or SKIFF_AUTH_TOKEN)",
    }),
    keys: field(apiKeyList, {
      kind: "string",
      flag: false,
      env: false,
      commands: serve,
      help: "API keys ([[server.keys]]): name, hash, limits and tools per client; see docs/keys.md",
    }),
    max_concurrent: field(z.number().int().min(1).default(10_000), {
      kind: "int",
      flag: "max-concurrent",
      commands: serve,
      help: "Most runs in flight; more get 429",
    }),
    max_body: size("1MiB", { flag: "max-body", commands: serve, help: "Largest request body; larger gets 413" }),
    max_timeout: duration("10m", {
      flag: "max-timeout",
      commands: serve,
      help: "Longest run timeout a request may ask for",
      zeroRefused: "it is the cap of every run, also of runs whose timeout is 0",
    }),
    body_timeout: duration("30s", {
      flag: "body-timeout",
      commands: serve,
      help: "Time to receive a whole request body; slower gets 408 and the connection is closed",
      zero: "no limit",
    }),
    store_timeout: duration("10s", {
      flag: "store-timeout",
      commands: serve,
      help: "Longest wait for one session store operation or readiness probe; then 503",
      zero: "no limit",
    }),
    gc_interval: duration("500ms", {
      commands: serve,
      help: "While runs are in flight, ask for an asynchronous garbage collection this often",
      zero: "off",
    }),
    shutdown_timeout: duration("30s", {
      flag: "shutdown-timeout",
      commands: serve,
      help: "On SIGTERM, how long in-flight runs may finish before they are aborted",
      zeroRefused: 'a drain must end before systemd gives up waiting; to abort runs at once, use "1ms"',
    }),
    watchdog: duration("30s", {
      flag: "watchdog",
      commands: ["systemd"],
      help: "WatchdogSec= of the unit `skiff systemd` prints: systemd restarts skiff when its event loop sends no ping for this long",
      zero: "no watchdog",
    }),
    ui: field(z.boolean().default(true), {
      kind: "boolean",
      flag: "ui",
      commands: serve,
      help: "Serve the web console at /ui/ (docs/console.md); --no-ui turns it off",
    }),
    sessions: field(z.string().min(1).optional(), {
      kind: "string",
      flag: "sessions",
      placeholder: "STORE",
      commands: [...serve, "chat", "sessions", "runs"],
      help: "memory | sqlite:PATH | postgres://… (serve default: sqlite under $STATE_DIRECTORY or ./skiff.db)",
    }),
    run_lease: duration("15s", {
      flag: "run-lease",
      commands: serve,
      help: "How long a replica's claim on a run lasts unless renewed; a run whose replica died is resumed by another after this",
      zeroRefused: "a run's claim would expire at once and every replica would take it over",
    }),
    approval_timeout: duration("1h", {
      flag: "approval-timeout",
      commands: serve,
      help: "How long a run waits for decisions on tool calls needing approval; then the undecided calls are denied",
      zeroRefused: "every call needing approval would be denied at once; take the tool out of tools.require_approval instead",
      // Compared with when the run paused, not a timer.
      max: 36_500 * 86_400_000,
    }),
    runs_retention: duration("7d", {
      flag: "runs-retention",
      commands: serve,
      help: "Delete finished runs and their events this long after they finished",
      zero: "keep forever",
      // Compared with the time a run finished, not a timer.
      max: 36_500 * 86_400_000,
    }),
    session_ttl: optionalDuration({
      flag: "session-ttl",
      commands: [...serve, "chat"],
      help: 'Delete sessions with no new turn for this long, e.g. "30d"; unset: keep forever',
      zero: "keep forever",
      // Not a timer (it is compared with the time of the last turn), so it may be longer than a timer can wait.
      max: 36_500 * 86_400_000,
    }),
    max_history_messages: field(z.number().int().min(2).default(200), {
      kind: "int",
      flag: "max-history-messages",
      commands: [...serve, "chat"],
      help: "Messages kept per session; the oldest turns are dropped first",
    }),
    log_level: field(z.enum(["debug", "info", "warn", "error"]).default("info"), {
      kind: "enum",
      flag: "log-level",
      commands: serve,
      help: "Least severe log level written",
    }),
    log_format: field(z.enum(["json", "text"]).default("json"), {
      kind: "enum",
      flag: "log-format",
      commands: serve,
      help: "Log line format on stderr",
    }),
  })
  .prefault({});
