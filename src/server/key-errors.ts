/**
 * Why a key's request or run was stopped by the key's own limits, as errors that render their
 * HTTP answer. They are SkiffErrors so that, thrown from the metered model in the middle of a run,
 * the loop ends the run with them as the cause and keeps what it did as `partial`.
 */
import { SkiffError } from "../errors.ts";
import { formatDuration } from "../util/duration.ts";
import { unauthorized } from "./auth.ts";
import { HttpError } from "./http-error.ts";

/** The per-key limits, by their config names (the `param` of the 429). */
export type KeyLimitName = "requests_per_minute" | "max_concurrent" | "tokens_per_day" | "cost_per_day";

/** A key is at one of its limits: 429 with Retry-After, `param` naming the limit. */
export class KeyLimitError extends SkiffError {
  readonly limit: KeyLimitName;
  /** Seconds until the limit lets the key in again (the minute or the UTC day turns). */
  readonly retryAfterSec: number;

  constructor(limit: KeyLimitName, message: string, retryAfterSec: number) {
    super("key_limit", message);
    this.limit = limit;
    this.retryAfterSec = retryAfterSec;
  }

  /** The 429 answer, with what the run did so far when it had started. */
  toHttp(extra?: Readonly<Record<string, unknown>>): HttpError {
    return new HttpError(429, "rate_limit_error", this.message, {
      param: this.limit,
      headers: { "retry-after": String(this.retryAfterSec) },
      cause: this,
      ...(extra === undefined ? {} : { extra }),
    });
  }
}

/** A run's key was removed from the config (and the server reloaded) while the run went on. */
export class KeyRevokedError extends SkiffError {
  readonly keyName: string;

  constructor(keyName: string) {
    super("key_revoked", `key "${keyName}" was removed from the server's keys while this run went on; it stopped before its next model call`);
    this.keyName = keyName;
  }

  /** The 401 answer, with what the run did so far. */
  toHttp(extra?: Readonly<Record<string, unknown>>): HttpError {
    return unauthorized(this.message, { cause: this, ...(extra === undefined ? {} : { extra }) });
  }
}

/** "in 3h12m" for a Retry-After, in the words of durations elsewhere. */
export function resetsIn(seconds: number): string {
  return formatDuration(seconds * 1000);
}
