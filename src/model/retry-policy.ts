/**
 * When a failed model request is tried again, and after how long. Pure functions: the adapter
 * (openai.ts) turns SDK errors into an `AttemptFailure` and asks `planRetry` what to do.
 * This is skiff's only retry layer; the SDK's own retries are off.
 */

/** What went wrong in one attempt, independent of any SDK. */
export type AttemptFailure =
  | { readonly kind: "http"; readonly status: number; readonly errorCode?: string; readonly errorType?: string }
  | { readonly kind: "connection" }
  | { readonly kind: "timeout" }
  | { readonly kind: "bad_response" }
  /** A streamed reply broke off after it began (dropped connection, no finish). */
  | { readonly kind: "stream_cut" }
  /**
   * A 200 whose body, or an event of whose stream, is an error object (OpenRouter, Groq, vLLM);
   * `status` is the HTTP status it names, when it names one.
   */
  | { readonly kind: "reply_error"; readonly status?: number; readonly errorCode?: string; readonly errorType?: string };

/** A failure's stable error code and whether another attempt could succeed. */
export interface FailureClass {
  readonly code: string;
  readonly retryable: boolean;
}

/** Statuses worth another attempt besides 5xx: request timeout, conflict (lock timeout), rate limit. */
const retryableStatuses = new Set([408, 409, 429]);

/** Classifies one attempt's failure into a `model_*` error code and its retryability. */
export function classifyFailure(failure: AttemptFailure): FailureClass {
  switch (failure.kind) {
    case "http": {
      if (failure.errorCode === "content_filter") {
        // Azure refuses a prompt its content filter flags with a 400 of this code: asking again is refused again.
        return { code: "model_content_filter", retryable: false };
      }
      if (failure.status === 429 && isQuotaExhausted(failure)) {
        // Waiting does not refill an account's credits: retrying only burns the run's time.
        return { code: "model_quota_exhausted", retryable: false };
      }
      const retryable = retryableStatuses.has(failure.status) || failure.status >= 500;
      return { code: `model_http_${failure.status}`, retryable };
    }
    case "connection":
      return { code: "model_connection", retryable: true };
    case "timeout":
      return { code: "model_timeout", retryable: true };
    case "bad_response":
      // A 200 whose body we cannot read (a proxy's HTML page, a truncated body, garbage SSE) is
      // treated like a 5xx: usually transient, and retries are bounded by `retries` anyway.
      return { code: "model_bad_response", retryable: true };
    case "stream_cut":
      // Retryable as such; the adapter refuses anyway once text has been shown to the user.
      return { code: "model_stream_cut", retryable: true };
    case "reply_error": {
      // The status the error names is honoured as if the response had carried it: a 400 is not
      // retried, a 429 or 5xx is.
      if (failure.status !== undefined) return classifyFailure({ ...failure, kind: "http", status: failure.status });
      // Without one, only a request the provider calls invalid is known to fail again.
      return { code: "model_reply_error", retryable: failure.errorType !== "invalid_request_error" };
    }
    default: {
      const unknown: never = failure;
      throw new Error(`unknown failure kind: ${JSON.stringify(unknown)}`);
    }
  }
}

function isQuotaExhausted(failure: { readonly errorCode?: string; readonly errorType?: string }): boolean {
  return failure.errorCode === "insufficient_quota" || failure.errorType === "insufficient_quota";
}

/** Anything with a `get(name)` like the fetch `Headers`. */
export interface HeaderLookup {
  get(name: string): string | null;
}

/**
 * How long the provider asked us to wait, in ms: `retry-after-ms` first (OpenAI's, more precise),
 * then `Retry-After` as seconds or an HTTP date. Undefined when absent or unreadable; a date in
 * the past gives 0.
 */
export function parseRetryAfter(headers: HeaderLookup | undefined, now: number): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get("retry-after-ms");
  if (ms !== null && /^\s*\d+(\.\d+)?\s*$/.test(ms)) return Math.ceil(Number(ms));
  const value = headers.get("retry-after");
  if (value === null || value.trim() === "") return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Math.ceil(Number(value) * 1000);
  // Only an HTTP date (it names a month); Date.parse would also accept things like "-5".
  const date = /[a-z]{3}/i.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Backoff shape: exponential from `baseMs`, doubling, capped at `capMs`, with full jitter. */
export interface Backoff {
  readonly baseMs: number;
  readonly capMs: number;
}

/** skiff's default backoff: 500 ms, 1 s, 2 s, 4 s, 8 s, 8 s… before jitter. */
export const defaultBackoff: Backoff = { baseMs: 500, capMs: 8000 };

/**
 * The wait before retry number `retry` (1 for the first retry): a uniform draw in
 * [0, min(cap, base·2^(retry-1))). Full jitter spreads clients that failed together.
 */
export function backoffDelay(retry: number, random: () => number, backoff: Backoff = defaultBackoff): number {
  const ceiling = Math.min(backoff.capMs, backoff.baseMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

/** Everything `planRetry` needs to decide. */
export interface RetryContext {
  /** The attempt that just failed: 1 for the first. */
  readonly attempt: number;
  /** Extra attempts allowed after the first. */
  readonly retries: number;
  readonly retryable: boolean;
  /** The provider's Retry-After, when it sent one. */
  readonly retryAfterMs: number | undefined;
  /** Longest wait we accept before a retry. */
  readonly maxRetryWaitMs: number;
  /** Epoch ms after which no retry may start (the run's deadline). */
  readonly deadline: number | undefined;
  readonly now: number;
  readonly random: () => number;
  readonly backoff?: Backoff;
}

/** Why no retry happens. */
export type GiveUpReason = "not_retryable" | "out_of_retries" | "wait_too_long" | "past_deadline";

/** The decision after a failed attempt: wait and retry, or give up (with the wait that was refused). */
export type RetryPlan =
  | { readonly action: "retry"; readonly waitMs: number }
  | { readonly action: "give_up"; readonly reason: GiveUpReason; readonly waitMs?: number };

/** Decides whether to retry after a failed attempt and how long to wait first. */
export function planRetry(context: RetryContext): RetryPlan {
  if (!context.retryable) return { action: "give_up", reason: "not_retryable" };
  if (context.attempt > context.retries) return { action: "give_up", reason: "out_of_retries" };
  // The provider knows its own recovery time better than our backoff does, so its value wins.
  const waitMs = context.retryAfterMs ?? backoffDelay(context.attempt, context.random, context.backoff);
  if (waitMs > context.maxRetryWaitMs) return { action: "give_up", reason: "wait_too_long", waitMs };
  if (context.deadline !== undefined && context.now + waitMs >= context.deadline) {
    return { action: "give_up", reason: "past_deadline", waitMs };
  }
  return { action: "retry", waitMs };
}
