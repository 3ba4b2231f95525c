import { RunCancelledError, RunError, type RunResult, runResultJson, RunTimeoutError } from "../agent/index.ts";
import { SessionStoreError, SessionStoreTimeoutError } from "../sessions/index.ts";
import { formatDuration } from "../util/duration.ts";
import { HttpError } from "./http-error.ts";
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
export function runJson(ids: RunIds, result: RunResult): Record<string, unknown> {
  return { id: ids.id, session_id: ids.sessionId ?? null, ...runResultJson(result, { includeMessages: false }) };
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
    if (error.code === "internal_error") {
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

/** An error's stable code (or class name) for logs: never its message, which may quote content. */
export function errorCodeOf(error: unknown): string {
  if (error instanceof Error) return "code" in error && typeof error.code === "string" ? error.code : error.name;
  return typeof error;
}
