import type { z } from "zod";
import { resolveSecretRef, type SecretSources } from "../config/secrets.ts";
import type { httpToolEntry } from "../config/sections/tools.ts";
import { parseIssuePath } from "../errors.ts";
import { formatDuration, formatSize } from "../util/duration.ts";
import { compileParameters } from "./json-schema.ts";
import type { Semaphore } from "../util/semaphore.ts";
import { type FetchFn, networkReason, ownLimit, takeSlots, withTimeout } from "./outbound.ts";
import { readLimited, readResponseLimited } from "../util/read-limited.ts";
import { type Tool, type ToolContext, ToolFailure } from "./tool.ts";
import { redactUrl } from "../util/redact-url.ts";

/** One `[[tools.http]]` entry, validated. */
export type HttpToolEntry = z.output<typeof httpToolEntry>;

/** What an HTTP tool needs from the outside. */
export interface HttpToolOptions {
  /** Resolves `env:` / `file:` header values. */
  readonly secrets: SecretSources;
  /** `tool_timeout`, used when the entry sets no `timeout`. */
  readonly defaultTimeoutMs: number;
  /** The budget of tool HTTP requests in flight, shared by every tool that calls out. */
  readonly outbound: Semaphore;
  readonly fetch?: FetchFn;
  /** Sent as `user-agent` unless the entry sets one. */
  readonly userAgent?: string;
}

const bodyMethods = new Set(["POST", "PUT", "PATCH"]);
const excerptBytes = 512;

/**
 * Turns a `[[tools.http]]` entry into a Tool: arguments are validated against `parameters`, then
 * sent as the JSON body (POST/PUT/PATCH) or the query string (GET/DELETE); the response body is
 * the result. Schema and header secrets are checked here, at start-up, as ConfigErrors.
 */
export function createHttpTool(entry: HttpToolEntry, options: HttpToolOptions): Tool {
  const path = `tools.http[${entry.name}]`;
  const parameters = compileParameters(entry.parameters, `${path}.parameters`);
  const headers = resolveHeaders(entry.headers, `${path}.headers`, options.secrets);
  const timeoutMs = entry.timeout ?? options.defaultTimeoutMs;
  const own = ownLimit(entry);
  const doFetch: FetchFn = options.fetch ?? fetch;
  const target = `${entry.method} ${redactUrl(entry.url)}`;
  const sendsBody = bodyMethods.has(entry.method);
  // Built once: names lower-cased so a configured header replaces ours whatever its case.
  const fixedHeaders: Record<string, string> = { accept: "application/json, text/*;q=0.9, */*;q=0.5" };
  if (options.userAgent) fixedHeaders["user-agent"] = options.userAgent;
  for (const [name, value] of Object.entries(headers)) fixedHeaders[name.toLowerCase()] = value;

  async function call(args: Record<string, unknown>, context: ToolContext, signal: AbortSignal): Promise<string> {
    // A body method sends the arguments as JSON to the configured URL as it is; only query
    // methods need a URL object to add parameters to.
    const href = sendsBody ? entry.url : withQuery(entry.url, args);
    const requestHeaders: Record<string, string> = sendsBody ? { "content-type": "application/json", ...fixedHeaders } : { ...fixedHeaders };
    if (context.traceparent) requestHeaders["traceparent"] = context.traceparent;

    // Declared endpoints are fixed: a redirect is reported, not followed with our headers attached.
    const response = await doFetch(href, {
      method: entry.method,
      headers: requestHeaders,
      ...(sendsBody ? { body: JSON.stringify(args) } : {}),
      signal,
      redirect: "manual",
    });
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel().catch(() => {});
      const location = response.headers.get("location");
      throw new ToolFailure(
        `${target} answered ${response.status} redirecting to ${location ? redactUrl(URL.parse(location, href) ?? location) : "(no location)"}; HTTP tools do not follow redirects, so set url of tool "${entry.name}" to the final address`,
        { code: "http_tool_redirect" },
      );
    }
    if (!response.ok) {
      const { bytes, complete } = await readLimited(response.body, excerptBytes);
      const excerpt = new TextDecoder().decode(bytes).replace(/\s+/g, " ").trim();
      throw new ToolFailure(
        `${target} answered ${response.status}${response.statusText ? ` ${response.statusText}` : ""}${excerpt ? `: ${excerpt}${complete ? "" : "…"}` : ""}`,
        { code: "http_tool_status" },
      );
    }
    const { bytes, complete } = await readResponseLimited(response, entry.max_response);
    if (!complete) {
      throw new ToolFailure(
        `the response of ${target} is larger than ${formatSize(entry.max_response)} (max_response of tool "${entry.name}"); raise max_response or make the service answer less`,
        { code: "http_tool_response_too_large" },
      );
    }
    return new TextDecoder().decode(bytes);
  }

  return {
    name: entry.name,
    description: entry.description,
    parameters: parameters.schema,
    type: "extension",
    source: "http",
    parallel: entry.parallel,
    ...(entry.idempotent ? { idempotent: true } : {}),
    // The tool always enforces its deadline (entry timeout, else tool_timeout), so the loop need not,
    // and everything it waits on takes the signal.
    timeoutMs,
    settlesOnAbort: true,
    async execute(args, context) {
      const valid = parameters.validate(args);
      const deadline = withTimeout(context.signal, timeoutMs);
      let release: (() => void) | undefined;
      try {
        release = await takeSlots(options.outbound, own, deadline.signal);
        return await call(valid, context, deadline.signal);
      } catch (error) {
        if (context.signal.aborted) throw context.signal.reason;
        if (deadline.timedOut()) {
          throw new ToolFailure(`${target} did not answer within ${formatDuration(timeoutMs)} (timeout of tool "${entry.name}")`, {
            code: "http_tool_timeout",
            cause: error,
          });
        }
        if (error instanceof ToolFailure) throw error;
        throw new ToolFailure(`could not reach ${target}: ${networkReason(error)}`, { code: "http_tool_unreachable", cause: error });
      } finally {
        release?.();
        deadline.dispose();
      }
    },
  };
}

/** Resolves every header value once; a missing variable or file is a ConfigError naming the header. */
function resolveHeaders(headers: Readonly<Record<string, string>>, path: string, secrets: SecretSources): Record<string, string> {
  const resolved: Record<string, string> = {};
  // The header's name as one segment: it is the user's own and may hold "." or "[".
  for (const [name, ref] of Object.entries(headers)) resolved[name] = resolveSecretRef(ref, [...parseIssuePath(path), name], secrets);
  return resolved;
}

/**
 * The URL with the arguments as query parameters: scalars as text, arrays as repeated keys,
 * objects and null as JSON. Parameters already in the configured URL are kept.
 */
function withQuery(base: string, args: Record<string, unknown>): string {
  const url = new URL(base);
  for (const [key, value] of Object.entries(args)) {
    if (value === undefined) continue;
    const items = Array.isArray(value) ? value : [value];
    for (const item of items) url.searchParams.append(key, typeof item === "object" || item === null ? JSON.stringify(item) : String(item));
  }
  return url.href;
}
