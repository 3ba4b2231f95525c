import type { Message, Usage } from "../model/messages.ts";

/**
 * Why a run ends. `max_steps`, `budget`, `requires_action` and `output_schema` (the answer did not
 * match the output schema after its corrective turns) are skiff's; `stop`, `length` and
 * `content_filter` the model's. A failed run's `partial` says `timeout`, `cancelled` or `error`.
 * A list, so the published JSON Schema is made from it.
 */
export const finishReasons = ["stop", "length", "content_filter", "max_steps", "budget", "requires_action", "output_schema", "timeout", "cancelled", "error"] as const;

/** One of `finishReasons`. */
export type FinishReason = (typeof finishReasons)[number];

/** A tool call waiting for a person's decision (finish reason `requires_action`). */
export interface PendingApproval {
  readonly step: number;
  readonly callId: string;
  readonly name: string;
  /** Raw JSON text the model sent. */
  readonly arguments: string;
}

/** One tool call of a step, as it ran. */
export interface ToolCallRecord {
  readonly id: string;
  readonly name: string;
  /** Raw JSON text the model sent. */
  readonly arguments: string;
  /** False when the model was sent an `error:` message instead of a result. */
  readonly ok: boolean;
  /** What the model was sent (result or `error: …`), already cut to the output limit. */
  readonly output: string;
  /** Start, relative to the start of the run, in ms. */
  readonly startMs: number;
  readonly durationMs: number;
}

/** One model call and the tools it asked for. */
export interface Step {
  readonly index: number;
  readonly model: string;
  readonly provider: string;
  readonly responseId: string | undefined;
  readonly finishReason: string;
  readonly usage: Usage;
  readonly startMs: number;
  readonly modelDurationMs: number;
  readonly durationMs: number;
  readonly toolCalls: readonly ToolCallRecord[];
}

/** What a run produced. Failed runs carry the same shape as `partial` on their error. */
export interface RunResult {
  /** The final answer text ("" when the run stopped before one). */
  readonly output: string;
  /** The whole conversation: the input messages followed by everything this run added. */
  readonly messages: readonly Message[];
  /** How many of `messages` came in with the run (the rest are new). */
  readonly inputMessageCount: number;
  readonly steps: readonly Step[];
  readonly usage: Usage;
  /** USD, when every model that answered has a price; undefined otherwise. */
  readonly costUsd: number | undefined;
  readonly finishReason: FinishReason;
  /** For `budget`: which budget was crossed. */
  readonly budget?: "tokens" | "cost";
  /** With an output schema: the final answer parsed, when it was valid. */
  readonly outputJson?: unknown;
  /** For `output_schema`: why the last answer (`output`) was not valid, one problem a line. */
  readonly outputSchemaErrors?: string;
  /** For `requires_action`: the calls waiting for a decision; the run continues once they are decided. */
  readonly pendingApprovals?: readonly PendingApproval[];
  readonly traceId: string | undefined;
  readonly durationMs: number;
}
