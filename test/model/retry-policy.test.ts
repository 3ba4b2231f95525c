import { describe, expect, it } from "bun:test";
import {
  backoffDelay,
  classifyFailure,
  parseRetryAfter,
  planRetry,
  type RetryContext,
} from "../../src/model/retry-policy.ts";

const headers = (values: Record<string, string>) => new Headers(values);

describe("classifyFailure", () => {
  it("retries 408, 409, 429 and every 5xx", () => {
    for (const status of [408, 409, 429, 500, 502, 503, 504, 599]) {
      expect(classifyFailure({ kind: "http", status })).toEqual({ code: `model_http_${status}`, retryable: true });
    }
  });

  it("never retries 400, 401, 403, 404, 422 or other 4xx", () => {
    for (const status of [400, 401, 403, 404, 405, 413, 422]) {
      expect(classifyFailure({ kind: "http", status })).toEqual({ code: `model_http_${status}`, retryable: false });
    }
  });

  it("does not retry a 429 that says the quota is exhausted (by code or by type)", () => {
    const byCode = classifyFailure({ kind: "http", status: 429, errorCode: "insufficient_quota" });
    const byType = classifyFailure({ kind: "http", status: 429, errorType: "insufficient_quota" });
    expect(byCode).toEqual({ code: "model_quota_exhausted", retryable: false });
    expect(byType).toEqual(byCode);
  });

  it("retries connection errors, timeouts, unreadable replies and cut streams", () => {
    expect(classifyFailure({ kind: "connection" })).toEqual({ code: "model_connection", retryable: true });
    expect(classifyFailure({ kind: "timeout" })).toEqual({ code: "model_timeout", retryable: true });
    expect(classifyFailure({ kind: "bad_response" })).toEqual({ code: "model_bad_response", retryable: true });
    expect(classifyFailure({ kind: "stream_cut" })).toEqual({ code: "model_stream_cut", retryable: true });
  });

  it("classifies an error inside a 200 by the status it names, as if the response had carried it", () => {
    expect(classifyFailure({ kind: "reply_error", status: 400 })).toEqual({ code: "model_http_400", retryable: false });
    expect(classifyFailure({ kind: "reply_error", status: 502 })).toEqual({ code: "model_http_502", retryable: true });
    expect(classifyFailure({ kind: "reply_error", status: 429, errorCode: "insufficient_quota" })).toEqual({ code: "model_quota_exhausted", retryable: false });
    expect(classifyFailure({ kind: "reply_error", errorCode: "server_error" })).toEqual({ code: "model_reply_error", retryable: true });
    expect(classifyFailure({ kind: "reply_error", errorType: "invalid_request_error" })).toEqual({ code: "model_reply_error", retryable: false });
  });

  it("does not retry a prompt refused by Azure's content filter", () => {
    expect(classifyFailure({ kind: "http", status: 400, errorCode: "content_filter" })).toEqual({ code: "model_content_filter", retryable: false });
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("2025-01-01T00:00:00Z");

  it("reads seconds, fractional seconds and retry-after-ms", () => {
    expect(parseRetryAfter(headers({ "retry-after": "3" }), now)).toBe(3000);
    expect(parseRetryAfter(headers({ "retry-after": "0.25" }), now)).toBe(250);
    expect(parseRetryAfter(headers({ "retry-after-ms": "1500" }), now)).toBe(1500);
  });

  it("prefers retry-after-ms over Retry-After", () => {
    expect(parseRetryAfter(headers({ "retry-after": "10", "retry-after-ms": "120" }), now)).toBe(120);
  });

  it("reads an HTTP date relative to now, and a past date as 0", () => {
    expect(parseRetryAfter(headers({ "retry-after": "Wed, 01 Jan 2025 00:00:05 GMT" }), now)).toBe(5000);
    expect(parseRetryAfter(headers({ "retry-after": "Tue, 31 Dec 2024 23:59:00 GMT" }), now)).toBe(0);
  });

  it("returns undefined when absent or unreadable", () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter(headers({}), now)).toBeUndefined();
    expect(parseRetryAfter(headers({ "retry-after": "soon" }), now)).toBeUndefined();
    expect(parseRetryAfter(headers({ "retry-after": "-5" }), now)).toBeUndefined();
  });
});

describe("backoffDelay", () => {
  it("doubles from 500 ms and caps at 8 s (random at its top)", () => {
    const top = () => 0.999999;
    expect([1, 2, 3, 4, 5, 6, 10].map((retry) => backoffDelay(retry, top))).toEqual([
      499, 999, 1999, 3999, 7999, 7999, 7999,
    ]);
  });

  it("applies full jitter: anywhere from 0 to the ceiling", () => {
    expect(backoffDelay(3, () => 0)).toBe(0);
    expect(backoffDelay(3, () => 0.5)).toBe(1000);
  });
});

describe("planRetry", () => {
  const base: RetryContext = {
    attempt: 1,
    retries: 2,
    retryable: true,
    retryAfterMs: undefined,
    maxRetryWaitMs: 30_000,
    deadline: undefined,
    now: 1_000_000,
    random: () => 0.5,
  };

  it("retries with backoff while attempts remain", () => {
    expect(planRetry(base)).toEqual({ action: "retry", waitMs: 250 });
    expect(planRetry({ ...base, attempt: 2 })).toEqual({ action: "retry", waitMs: 500 });
    expect(planRetry({ ...base, attempt: 3 })).toEqual({ action: "give_up", reason: "out_of_retries" });
  });

  it("never retries when retries is 0 or the failure is not retryable", () => {
    expect(planRetry({ ...base, retries: 0 })).toEqual({ action: "give_up", reason: "out_of_retries" });
    expect(planRetry({ ...base, retryable: false })).toEqual({ action: "give_up", reason: "not_retryable" });
  });

  it("uses the provider's Retry-After instead of the backoff", () => {
    expect(planRetry({ ...base, retryAfterMs: 1000 })).toEqual({ action: "retry", waitMs: 1000 });
  });

  it("gives up at once when the wait is longer than maxRetryWaitMs", () => {
    expect(planRetry({ ...base, retryAfterMs: 120_000 })).toEqual({
      action: "give_up",
      reason: "wait_too_long",
      waitMs: 120_000,
    });
  });

  it("gives up at once when the wait would pass the deadline", () => {
    expect(planRetry({ ...base, retryAfterMs: 2000, deadline: base.now + 1000 })).toEqual({
      action: "give_up",
      reason: "past_deadline",
      waitMs: 2000,
    });
    expect(planRetry({ ...base, retryAfterMs: 500, deadline: base.now + 1000 })).toEqual({
      action: "retry",
      waitMs: 500,
    });
  });
});
