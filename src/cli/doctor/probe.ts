import { formatDuration } from "../../util/duration.ts";
import { redactUrl } from "../../util/redact-url.ts";
import type { CheckContext } from "./check.ts";

/** What one HTTP probe got: a response (any status), or why there was none. */
export type ProbeOutcome =
  | { readonly ok: true; readonly status: number; readonly body: string; readonly ms: number }
  | { readonly ok: false; readonly reason: string };

/** Most of a response body a probe reads: enough for an error message or a model list. */
const maxBody = 256 * 1024;

/**
 * Sends one request bounded by the context's time limit and reads (part of) the body. Never
 * throws: a connection that fails or hangs becomes a reason such as "connection refused".
 */
export async function probe(context: CheckContext, url: string, init: RequestInit = {}): Promise<ProbeOutcome> {
  const started = performance.now();
  const signal = AbortSignal.timeout(context.timeoutMs);
  try {
    const response = await context.fetch(url, { ...init, signal, redirect: "manual" });
    const body = init.method === "HEAD" ? "" : (await response.text()).slice(0, maxBody);
    return { ok: true, status: response.status, body, ms: Math.round(performance.now() - started) };
  } catch (error) {
    if (signal.aborted) return { ok: false, reason: `no answer within ${formatDuration(context.timeoutMs)}` };
    return { ok: false, reason: describeNetworkError(error) };
  }
}

/** A fetch failure in a few words, without the runtime's generic advice. */
export function describeNetworkError(error: unknown): string {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  switch (code) {
    case "ECONNREFUSED":
    case "ConnectionRefused":
      return "connection refused (nothing listens there)";
    case "ENOTFOUND":
      return "host name not found (DNS)";
    case "ECONNRESET":
    case "ConnectionClosed":
      return "the connection was closed before an answer";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "host unreachable";
  }
  // The runtime's message may quote the URL, credentials and all.
  const message = redactUrl(error instanceof Error ? error.message : String(error));
  return message.replace(/\s+/g, " ").slice(0, 200);
}

/** The error message of an OpenAI-style `{"error":{"message"}}` body, or the start of the text. */
export function bodyMessage(body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === "object" && parsed !== null) {
      const error = (parsed as { error?: unknown }).error;
      if (typeof error === "string") return error;
      if (typeof error === "object" && error !== null && typeof (error as { message?: unknown }).message === "string") {
        return (error as { message: string }).message;
      }
    }
  } catch {
    // Not JSON: fall through to the raw text.
  }
  return body.replace(/\s+/g, " ").trim().slice(0, 160);
}

/** Removes every occurrence of each secret from text a server sent back (some echo the key). */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) if (secret && secret.length >= 4) out = out.replaceAll(secret, "****");
  return out;
}
