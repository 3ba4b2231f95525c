/**
 * The HTTP API's JSON as the console reads it (docs/http-api.md). Every field the server may leave
 * out is optional, and the views show what is there, so a newer server's extra fields or an older
 * one's missing ones break nothing.
 */

/** Token counts of a run or of one model call. */
export interface UsageJson {
  readonly input_tokens?: number;
  readonly output_tokens?: number;
  readonly cached_input_tokens?: number;
  readonly reasoning_tokens?: number;
}

/** One tool call of a step, as it ran. */
export interface ToolCallJson {
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
  readonly ok: boolean;
  readonly output: string;
  /** From the start of the run. */
  readonly start_ms: number;
  readonly duration_ms: number;
}

/** One model call and the tools it asked for. */
export interface StepJson {
  readonly index: number;
  readonly model: string;
  readonly finish_reason: string;
  readonly usage?: UsageJson;
  readonly duration_ms: number;
  readonly model_duration_ms: number;
  readonly tool_calls: readonly ToolCallJson[];
}

/** A call waiting for a person's decision. */
export interface PendingApprovalJson {
  readonly step: number;
  readonly call_id: string;
  readonly tool: string;
  readonly arguments: string;
}

/** The error of a failed or cancelled run. */
export interface RunErrorJson {
  readonly type?: string;
  readonly code?: string;
  readonly message?: string;
}

/** What a run did, in a finished run or the `partial` of a failed one. */
export interface RunResultJson {
  readonly output?: string;
  readonly finish_reason?: string;
  readonly steps?: readonly StepJson[];
  readonly usage?: UsageJson;
  readonly cost_usd?: number | null;
  readonly duration_ms?: number;
}

/** Run statuses (GET /v1/runs/{id}). */
export type RunStatus = "queued" | "running" | "requires_action" | "completed" | "failed" | "cancelled";

/** GET /v1/runs/{id}, an entry of GET /v1/runs, and the final events' data. */
export interface RunJson extends RunResultJson {
  readonly id: string;
  readonly status: RunStatus;
  readonly session_id?: string | null;
  readonly background?: boolean;
  readonly created_at?: string;
  readonly updated_at?: string;
  readonly attempt?: number;
  readonly error?: RunErrorJson;
  readonly partial?: RunResultJson;
  readonly pending_approvals?: readonly PendingApprovalJson[];
  readonly requested_at?: string;
}

/** GET /v1/runs. */
export interface RunListJson {
  readonly data: readonly RunJson[];
  readonly has_more: boolean;
}

/** An assistant message as the model wrote it (`model.completed`). */
export interface AssistantMessageJson {
  readonly content?: string | null;
  readonly reasoning_content?: string;
  readonly reasoning?: string;
  readonly tool_calls?: readonly { readonly id: string; readonly name: string; readonly arguments: string }[];
}

/** A session's stored message (GET /v1/sessions/{id}). */
export interface SessionMessageJson {
  readonly role: string;
  readonly content?: string | null;
  readonly tool_calls?: readonly { readonly id: string; readonly function?: { readonly name?: string; readonly arguments?: string } }[];
  readonly tool_call_id?: string;
}

/** GET /v1/sessions/{id}. */
export interface SessionJson {
  readonly id: string;
  readonly messages: readonly SessionMessageJson[];
}

/** One tool of GET /v1/tools. */
export interface ToolJson {
  readonly name: string;
  readonly description?: string;
  readonly type?: string;
  readonly source?: string;
  readonly parameters?: unknown;
}

/** True for a run that will not change any more. */
export function isFinished(status: RunStatus): boolean {
  return status === "completed" || status === "failed" || status === "cancelled";
}
