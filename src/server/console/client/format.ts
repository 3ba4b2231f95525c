/** How the console writes numbers, times and JSON: pure functions, shared by every view. */
import type { UsageJson } from "./types.ts";

/** `0.8ms`, `412ms`, `3.20s`, `2m05s`: short, and precise where it matters. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return "—";
  if (ms < 10) return `${ms.toFixed(1)}ms`;
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(2)}s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.floor((ms % 60_000) / 1_000);
  return `${minutes}m${String(seconds).padStart(2, "0")}s`;
}

/** `in 171 · out 47`, or "—" when the run has no usage yet. */
export function formatTokens(usage: UsageJson | undefined): string {
  if (usage?.input_tokens === undefined) return "—";
  return `in ${usage.input_tokens} · out ${usage.output_tokens ?? 0}`;
}

/** `$0.0042`; "—" when no price is configured (cost_usd null). */
export function formatCost(usd: number | null | undefined): string {
  if (usd === null || usd === undefined) return "—";
  if (usd === 0) return "$0";
  return usd < 0.01 ? `$${usd.toPrecision(2)}` : `$${usd.toFixed(4)}`;
}

/** An ISO time as the browser's local date and time; the text as it came when it is not a time. */
export function formatTime(iso: string | undefined): string {
  if (iso === undefined) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** JSON text (tool arguments, a schema) indented for reading; text that is not JSON, unchanged. */
export function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
