import { readFileSync } from "node:fs";
import { redactUrl } from "../util/redact-url.ts";
import { createSemaphore, type Semaphore } from "../util/semaphore.ts";

/** What tools that call out over HTTP share: the fetch they use and how they bound themselves. */

/** `fetch` as the HTTP tools call it; injected so tests and benchmarks can wrap it. */
export type FetchFn = (url: string, init: BunFetchRequestInit) => Promise<Response>;

/**
 * Tool HTTP requests in flight at once, all upstreams together (declared HTTP tools, http_fetch,
 * MCP servers over HTTP), when `tools.max_outbound` is not set: 40 % of the process's open-file
 * limit (8,000 of 20,000), at least 64 and at most 16,384. Each request holds a socket, and the
 * rest of the descriptors belong to clients (`skiff serve` with 10,000 connected holds half of
 * 20,000) and to model calls; past the budget, calls wait in line instead of failing with EMFILE.
 */
export function defaultOutboundBudget(readLimits: () => string | undefined = readProcLimits): number {
  const line = readLimits()
    ?.split("\n")
    .find((entry) => entry.startsWith("Max open files"));
  const soft = line?.split(/\s{2,}/)[1];
  if (soft === undefined) return 1024; // no /proc (not Linux): a conservative fixed budget
  if (soft === "unlimited") return 16_384;
  const limit = Number(soft);
  return Number.isFinite(limit) ? Math.min(16_384, Math.max(64, Math.floor(limit * 0.4))) : 1024;
}

function readProcLimits(): string | undefined {
  try {
    return readFileSync("/proc/self/limits", "utf8");
  } catch {
    return undefined;
  }
}

/**
 * Takes the slots one tool call needs: the tool's own (`max_concurrent`) first, so calls of a
 * capped tool wait in their own line without holding shared slots, then one of the shared outbound
 * budget. Resolves with the function that gives them back; a call whose signal aborts while it
 * waits holds nothing. No closure is made when only one semaphore applies, and none is held while
 * the call runs (10,000 runs × 3 calls at a time).
 */
export async function takeSlots(shared: Semaphore | undefined, own: Semaphore | undefined, signal: AbortSignal): Promise<() => void> {
  if (own && !own.tryAcquire()) await own.acquire(signal);
  if (shared && !shared.tryAcquire()) {
    try {
      await shared.acquire(signal);
    } catch (error) {
      own?.release();
      throw error;
    }
  }
  if (!own) return shared ? shared.release : releaseNothing;
  if (!shared) return own.release;
  return () => {
    shared.release();
    own.release();
  };
}

const releaseNothing = (): void => {};

/**
 * The cap of one upstream across every run of the process, from `max_concurrent`. (`parallel =
 * false` is the loop's business: it becomes Tool.parallel, serial within a step.)
 */
export function ownLimit(entry: { readonly max_concurrent?: number | undefined }): Semaphore | undefined {
  return entry.max_concurrent === undefined ? undefined : createSemaphore(entry.max_concurrent);
}

/** Joins the caller's signal with a timeout of this tool's own, and tells which one fired. */
export { deadline as withTimeout } from "../util/deadline.ts";

/**
 * The short reason of a network error: Bun's `code` (ConnectionRefused, ECONNRESET…) when it has
 * one, else the message with the credentials of any URL it quotes hidden (Bun's messages may quote
 * the whole URL, query and all).
 */
export function networkReason(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === "string" && code !== "" ? code : redactUrl(error.message);
  }
  return redactUrl(String(error));
}
