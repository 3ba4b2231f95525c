import { RunCancelledError, RunError, RunJournalError, RunSystemError, type RunResult, RunTimeoutError } from "../agent/index.ts";
import { runResultJson } from "../contract/result-json.ts";
import type { ResultJson } from "../contract/result-schema.ts";
import { SessionStoreError, SessionStoreTimeoutError } from "../sessions/index.ts";
import { UsageStoreError } from "../usage/usage-store.ts";
import { formatDuration } from "../util/duration.ts";
import { HttpError } from "./http-error.ts";
import { KeyLimitError, KeyRevokedError } from "./key-errors.ts";
import type { RunOutcome } from "./metrics.ts";
import { ShutdownReason } from "./run-tracker.ts";

/** HTTP status logged for a run whose client went away (nginx's convention; nobody receives it). */
export const clientClosedStatus = 499;

/** A run that did not produce a result: the response to send and how to count it. */
export interface RunFailure {
  readonly http: HttpError;
  readonly outcome: RunOutcome;
  /** What the run did before it stopped, when it started at all. */
  readonly partial: RunResult | undefined;
}

/** The ids every run response carries. */
export interface RunIds {
  readonly id: string;
  readonly sessionId: string | undefined;
}

/** The JSON of a run (finished or partial): ids first, then the shared result form without messages. */
export function runJson(ids: RunIds, result: RunResult) {
  return { id: ids.id, session_id: ids.sessionId ?? null, ...runResultJson(result, { includeMessages: false }) } satisfies ResultJson;
}

/** Maps why a run failed to an HTTP error that carries what the run did so far as `partial`. */
export function describeRunFailure(error: unknown, ids: RunIds): RunFailure {
  if (error instanceof RunError) {
    const extra = { partial: runJson(ids, error.partial) };
    if (error instanceof RunTimeoutError) {
      return { http: new HttpError(504, "timeout_error", error.message, { extra, cause: error }), outcome: "timeout", partial: error.partial };
    }
    if (error instanceof RunCancelledError) {
      const shutdown = error.cause instanceof ShutdownReason;
      const http = shutdown
        ? new HttpError(503, "service_unavailable", `${error.message} Retry on another instance or after the restart.`, {
            extra,
            headers: { "retry-after": "5" },
            cause: error,
          })
        : new HttpError(clientClosedStatus, "invalid_request_error", error.message, { extra, cause: error });
      return { http, outcome: "cancelled", partial: error.partial };
    }
    // The run's key: a daily budget spent, the key removed, or its counters unreadable (metered-model.ts).
    if (error.cause instanceof KeyLimitError) return { http: error.cause.toHttp(extra), outcome: "budget", partial: error.partial };
    if (error.cause instanceof KeyRevokedError) return { http: error.cause.toHttp(extra), outcome: "error", partial: error.partial };
    if (error.cause instanceof UsageStoreError) {
      return { http: usageUnavailable(error.cause, "counting this run's usage", "the run stopped; what it did is in \"partial\"", extra), outcome: "error", partial: error.partial };
    }
    // The run's journal could not be written (the run store failed or froze): a dependency is down.
    if (error instanceof RunJournalError) {
      const http = new HttpError(503, "service_unavailable", `${error.message}; what it did is in "partial"; retry in a moment`, {
        extra,
        headers: { "retry-after": "5" },
        cause: error,
      });
      return { http, outcome: "error", partial: error.partial };
    }
    if (error instanceof RunSystemError) {
      return { http: new HttpError(500, "server_error", "internal error while running the agent; see the server log", { extra, cause: error }), outcome: "error", partial: error.partial };
    }
    return { http: new HttpError(502, "model_error", error.message, { extra, cause: error }), outcome: "model_error", partial: error.partial };
  }
  if (error instanceof HttpError) return { http: error, outcome: "error", partial: undefined };
  if (error instanceof SessionStoreError) {
    return { http: storeUnavailable(error, "loading the session", "the run did not start; retry in a moment"), outcome: "error", partial: undefined };
  }
  return { http: new HttpError(500, "server_error", "internal error; see the server log", { cause: error }), outcome: "error", partial: undefined };
}

/**
 * 503 for a session store that failed or did not answer in time: a dependency is down, not a bug
 * (500). The message says what was being done and what the client can do; the store's own error,
 * which may name hosts, stays in the server.
 */
export function storeUnavailable(error: SessionStoreError, doing: string, next: string, extra?: Readonly<Record<string, unknown>>): HttpError {
  const what = error instanceof SessionStoreTimeoutError ? `did not answer within ${formatDuration(error.timeoutMs)}` : "failed (see the server log)";
  return new HttpError(503, "service_unavailable", `the session store ${what} while ${doing}; ${next}`, {
    headers: { "retry-after": "5" },
    cause: error,
    ...(extra === undefined ? {} : { extra }),
  });
}

/** 503 for a usage store (keys' counters) that failed or did not answer in time. */
export function usageUnavailable(error: UsageStoreError, doing: string, next: string, extra?: Readonly<Record<string, unknown>>): HttpError {
  return new HttpError(503, "service_unavailable", `the usage store failed or did not answer in time while ${doing} (see the server log); ${next}`, {
    headers: { "retry-after": "5" },
    cause: error,
    ...(extra === undefined ? {} : { extra }),
  });
}

/** An error's stable code (or class name) for logs: never its message, which may quote content. */
export function errorCodeOf(error: unknown): string {
  if (error instanceof Error) return "code" in error && typeof error.code === "string" ? error.code : error.name;
  return typeof error;
}
