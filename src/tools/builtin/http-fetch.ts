import { lookup as dnsLookup } from "node:dns/promises";
import { z } from "zod";
import { formatDuration, formatSize } from "../../util/duration.ts";
import { defineTool } from "../define-tool.ts";
import type { Semaphore } from "../../util/semaphore.ts";
import { type FetchFn, networkReason, withTimeout } from "../outbound.ts";
import { readLimited } from "../../util/read-limited.ts";
import { ToolFailure, ToolInputError } from "../tool.ts";
import { guardedFetch, type LookupFn } from "./guarded-fetch.ts";
import { htmlToText } from "./html-to-text.ts";
import { redactUrl } from "../../util/redact-url.ts";

/** How http_fetch is bounded and what it may reach. */
export interface HttpFetchOptions {
  /** `tools.allow_hosts`: hosts reachable even when they resolve to private or loopback addresses. */
  readonly allowHosts: readonly string[];
  /** Most bytes of a body read; the rest is cut and the result says so. */
  readonly maxResponseBytes: number;
  /** Deadline of one fetch, redirects included. */
  readonly timeoutMs: number;
  /** The budget of tool HTTP requests in flight, shared by every tool that calls out. */
  readonly outbound: Semaphore;
  readonly userAgent?: string;
  readonly fetch?: FetchFn;
  readonly lookup?: LookupFn;
  /** Replaces the address policy; for tests only. */
  readonly blockedReason?: (address: string) => string | undefined;
}

/** What the model gets back. */
export interface FetchResult {
  /** The URL that answered, after redirects. */
  readonly url: string;
  readonly status: number;
  readonly content_type: string;
  /** Text, JSON as sent, or HTML reduced to text. */
  readonly body: string;
  readonly truncated?: string;
}

const systemLookup: LookupFn = (host) => dnsLookup(host, { all: true, verbatim: true });

/** Builds the `http_fetch` built-in. */
export function createHttpFetchTool(options: HttpFetchOptions) {
  const guard = {
    allowHosts: options.allowHosts,
    lookup: options.lookup ?? systemLookup,
    fetch: options.fetch ?? fetch,
    ...(options.blockedReason ? { blockedReason: options.blockedReason } : {}),
  };
  return defineTool({
    name: "http_fetch",
    idempotent: true,
    description:
      "Fetch a public web page or API over http(s) with GET or POST. Returns status, content type and the body as text (HTML reduced to text). Private, loopback and cloud-metadata addresses are refused.",
    input: z.object({
      url: z.string().describe("Absolute http:// or https:// URL"),
      method: z.enum(["GET", "POST"]).default("GET"),
      body: z.string().optional().describe("Request body, POST only"),
      content_type: z.string().optional().describe('Content-Type of the body (default "application/json")'),
    }),
    run: async ({ url, method, body, content_type }, context): Promise<FetchResult> => {
      if (body !== undefined && method !== "POST") throw new ToolInputError('body: only sent with method "POST"');
      const headers: Record<string, string> = { accept: "text/html, application/json, text/*;q=0.9, */*;q=0.5" };
      if (options.userAgent) headers["user-agent"] = options.userAgent;
      if (body !== undefined) headers["content-type"] = content_type ?? "application/json";
      const deadline = withTimeout(context.signal, options.timeoutMs);
      try {
        return await options.outbound.run(async () => {
          const request = { method, headers, signal: deadline.signal, ...(body === undefined ? {} : { body }) };
          const { response, url: final } = await guardedFetch(url, request, guard);
          return describeResponse(response, final, options.maxResponseBytes);
        }, deadline.signal);
      } catch (error) {
        if (context.signal.aborted) throw context.signal.reason;
        if (deadline.timedOut()) {
          throw new ToolFailure(`${redactUrl(url)} did not answer within ${formatDuration(options.timeoutMs)}`, {
            code: "fetch_timeout",
            cause: error,
          });
        }
        if (error instanceof ToolFailure || error instanceof ToolInputError) throw error;
        throw new ToolFailure(`could not fetch ${redactUrl(url)}: ${networkReason(error)}`, { code: "fetch_failed", cause: error });
      } finally {
        deadline.dispose();
      }
    },
  });
}

async function describeResponse(response: Response, url: URL, maxBytes: number): Promise<FetchResult> {
  const contentType = response.headers.get("content-type") ?? "";
  const { bytes, complete } = await readLimited(response.body, maxBytes);
  const truncated = complete ? {} : { truncated: `only the first ${formatSize(maxBytes)} of the body were read` };
  const base = { url: url.href, status: response.status, content_type: contentType };
  if (!isText(contentType, bytes)) return { ...base, body: `[binary content (${contentType || "unknown type"}), not shown]`, ...truncated };
  const text = new TextDecoder().decode(bytes);
  return { ...base, body: /html/i.test(contentType) ? htmlToText(text) : text, ...truncated };
}

function isText(contentType: string, bytes: Uint8Array): boolean {
  if (/^(text\/|application\/([\w.+-]*\+)?(json|xml|javascript|x-www-form-urlencoded))/i.test(contentType)) return true;
  if (contentType !== "") return false;
  // No type given: text unless the first bytes hold a NUL.
  return !bytes.subarray(0, 1024).includes(0);
}
