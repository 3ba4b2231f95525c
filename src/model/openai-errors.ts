/**
 * The `ModelError` the OpenAI adapter throws once it gives up: what was attempted, where, what
 * the provider said, and what to do next, on one line and never with the API key in it.
 */
import { ModelError } from "../errors.ts";
import { formatDuration } from "../util/duration.ts";
import { redactUrl } from "../util/redact-url.ts";
import type { AttemptFailure, GiveUpReason } from "./retry-policy.ts";

/** One failed attempt, described without the SDK. */
export interface Failure {
  readonly failure: AttemptFailure;
  /** What the provider or the transport said, raw (tidied and redacted here). */
  readonly detail: string;
  readonly status?: number;
  readonly retryAfterMs?: number;
}

/** The endpoint the request went to, for the message. */
export interface Endpoint {
  /** `host[:port]` of base_url. */
  readonly host: string;
  readonly model: string;
  /** Removed from every message, even when a provider echoes it back. */
  readonly apiKey: string | undefined;
  readonly maxRetryWaitMs: number;
}

/** How the attempts ended. */
export interface GiveUp {
  readonly code: string;
  readonly retryable: boolean;
  /** Attempts made so far, the failed one included. */
  readonly attempt: number;
  /** Part of a streamed answer already reached the user, so it was not retried. */
  readonly textShown: boolean;
  readonly reason?: GiveUpReason;
  /** The retry wait that was refused (too long, or past the deadline). */
  readonly refusedWaitMs?: number;
}

/** Builds the error for a failed attempt: the final one, or one recorded on a retried attempt's span. */
export function toModelError(endpoint: Endpoint, failed: Failure, end: GiveUp): ModelError {
  const status = failed.status === undefined ? "" : `HTTP ${failed.status}: `;
  const detail = tidy(failed.detail, endpoint.apiKey);
  const stop = /[.?!]$/.test(detail) ? "" : ".";
  const attempts = `${end.attempt} attempt${end.attempt === 1 ? "" : "s"}`;
  const message =
    `chat request to ${endpoint.host} (model ${endpoint.model}) failed after ${attempts}: ` +
    `${status}${detail}${stop} ${nextStep(endpoint, end)}`;
  return new ModelError(message, {
    code: end.code,
    retryable: end.retryable,
    ...(failed.status === undefined ? {} : { status: failed.status }),
    ...(failed.retryAfterMs === undefined ? {} : { retryAfterMs: failed.retryAfterMs }),
  });
}

function nextStep(endpoint: Endpoint, end: GiveUp): string {
  const hint = hintFor(end.code, endpoint.host);
  if (end.reason === "wait_too_long" && end.refusedWaitMs !== undefined) {
    return (
      `The provider asked to wait ${formatDuration(end.refusedWaitMs)} before retrying, ` +
      `more than max_retry_wait (${formatDuration(endpoint.maxRetryWaitMs)}). ${hint}`
    );
  }
  if (end.reason === "past_deadline" && end.refusedWaitMs !== undefined) {
    return `Waiting ${formatDuration(end.refusedWaitMs)} to retry would pass the run's deadline. ${hint}`;
  }
  if (end.textShown) return "Not retried because part of the answer was already shown.";
  return hint;
}

function hintFor(code: string, host: string): string {
  if (code === "model_http_401") return "Check OPENAI_API_KEY / api_key_file.";
  if (code === "model_http_403") return "Check that the API key may use this model (project, organization, region).";
  if (code === "model_http_404") return "Check base_url (it usually ends in /v1) and the model name.";
  if (code === "model_http_429") return "The provider is rate limiting: lower concurrency or raise retries / max_retry_wait.";
  if (code === "model_quota_exhausted") {
    return "The account has no quota left: check its plan and billing, or configure a [[fallback]].";
  }
  if (code === "model_content_filter") return "The provider's content filter refused the prompt: rephrase it, or check the deployment's filter settings.";
  if (code === "model_http_400" || code === "model_http_422") {
    // The provider's own reason (quoted before this) says what it refused; a generic guess would mislead.
    return "The provider refused the request as sent, for the reason it gave; docs/providers.md lists the provider quirks skiff knows.";
  }
  if (/^model_http_(5\d\d|408|409)$/.test(code)) return "The provider is failing: try again later or configure a [[fallback]].";
  if (code.startsWith("model_http_")) return "The provider rejected the request: check the model name and base_url.";
  if (code === "model_connection") return `Check that the server at ${host} is running and base_url is right.`;
  if (code === "model_timeout") return "Raise llm_timeout or check the server's load.";
  if (code === "model_bad_response") return "Check that base_url points at an OpenAI-compatible /v1 API.";
  if (code === "model_reply_error") return "The provider failed while answering: try again later or configure a [[fallback]].";
  return "The connection dropped mid-answer: try again, and check any proxy between skiff and base_url.";
}

/**
 * Fits provider and transport text on one line: the key removed even when a gateway echoes it back
 * unmasked (OpenAI masks it, others may not), credentials of quoted URLs hidden, Bun's "pass verbose: true" advice dropped, HTML cut short.
 */
function tidy(text: string, apiKey: string | undefined): string {
  const withoutKey = apiKey ? text.split(apiKey).join("[redacted]") : text;
  // A transport error may quote the URL: base_url can carry credentials (user:password@, ?key=).
  const line = redactUrl(withoutKey)
    .replace(/\bsk-[A-Za-z0-9_*-]{6,}/g, "sk-[redacted]")
    .replace(/\s*For more information, pass `verbose: true`.*$/s, "")
    .replace(/\s+/g, " ")
    .trim();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/** An error's message with its cause's, for details. */
export function errorText(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return `${error.message}${cause}`;
  }
  return String(error);
}
