/**
 * The approval port: tool calls that wait for a person's yes. The loop asks the gate which calls
 * need a decision and hands it those of a step together; the gate answers (a person at a terminal)
 * or says the run must pause (a service, a script without a terminal). A paused run ends with
 * `finishReason: "requires_action"` and its pending calls; it continues later from its journal,
 * with the decisions in it, like a run recovered after a crash.
 */
import type { ToolCall } from "../model/messages.ts";

/** A person's answer for one call. */
export interface ApprovalDecision {
  readonly callId: string;
  readonly approve: boolean;
  /** Why, for a denial: the model is told. */
  readonly reason?: string;
  /** Who decided (`terminal`, `api`, `approval_timeout`, a key's name), for the trace. */
  readonly by?: string;
  /** How long the call waited for the decision, in ms, for the trace. */
  readonly waitMs?: number;
}

/** Decides on calls that need approval. */
export interface ApprovalGate {
  /** True when calls of this tool wait for a decision. */
  requires(toolName: string): boolean;
  /**
   * Decisions for `calls` (all of one step), or "pause" when nobody can decide now: the run then
   * stops in requires_action after running the step's other calls.
   */
  decide(request: ApprovalRequest): Promise<readonly ApprovalDecision[] | "pause">;
}

/** The calls of one step that wait for a decision. */
export interface ApprovalRequest {
  readonly step: number;
  readonly calls: readonly ToolCall[];
  readonly signal: AbortSignal;
}

/** What the model is sent for a denied call. */
export function deniedOutput(reason: string | undefined): string {
  const why = reason?.trim();
  return `error: a person denied this call${why ? `: ${why}` : ""}. Do not repeat it unchanged; adapt, or ask the user`;
}

/** A policy of tool names and `*` globs (`fs_write`, `github__*`), as `tools.require_approval` holds it. */
export function approvalPolicy(patterns: readonly string[]): (toolName: string) => boolean {
  if (patterns.length === 0) return () => false;
  const exact = new Set(patterns.filter((p) => !p.includes("*")));
  const globs = patterns.filter((p) => p.includes("*")).map((p) => new RegExp(`^${p.split("*").map(escapeRegExp).join(".*")}$`));
  return (name) => exact.has(name) || globs.some((glob) => glob.test(name));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
}
