/**
 * Builds the result document of `skiff schema result` from a run: `ask --json`, the HTTP API's
 * run bodies and the `partial` of failures share it. Typed by the zod schema, so what is printed
 * and what is published cannot drift apart.
 */
import type { RunError, RunResult } from "../agent/index.ts";
import type { Usage } from "../model/messages.ts";
import type { ResultJson } from "./result-schema.ts";
import { schemaVersion } from "./schema-version.ts";

/** Usage as JSON: snake_case, as in OpenAI's and skiff's HTTP APIs. */
export function usageJson(usage: Usage) {
  return {
    input_tokens: usage.inputTokens,
    output_tokens: usage.outputTokens,
    cached_input_tokens: usage.cachedInputTokens,
    reasoning_tokens: usage.reasoningTokens,
  } satisfies ResultJson["usage"];
}

/** The wire form of a run result, shared by `ask --json` and the HTTP service. */
export function runResultJson(result: RunResult, options: { includeMessages?: boolean } = {}) {
  return {
    schema_version: schemaVersion,
    output: result.output,
    ...(result.outputJson === undefined ? {} : { output_json: result.outputJson as ResultJson["output_json"] }),
    ...(result.outputSchemaErrors === undefined ? {} : { output_schema_errors: result.outputSchemaErrors }),
    finish_reason: result.finishReason,
    steps: result.steps.map((step) => ({
      index: step.index,
      model: step.model,
      provider: step.provider,
      response_id: step.responseId ?? null,
      finish_reason: step.finishReason,
      usage: usageJson(step.usage),
      duration_ms: round(step.durationMs),
      model_duration_ms: round(step.modelDurationMs),
      tool_calls: step.toolCalls.map((call) => ({
        id: call.id,
        name: call.name,
        arguments: call.arguments,
        ok: call.ok,
        output: call.output,
        start_ms: round(call.startMs),
        duration_ms: round(call.durationMs),
      })),
    })),
    usage: usageJson(result.usage),
    cost_usd: result.costUsd ?? null,
    ...(result.budget === undefined ? {} : { budget: result.budget }),
    trace_id: result.traceId ?? null,
    duration_ms: round(result.durationMs),
    ...(options.includeMessages === false ? {} : { messages: result.messages.slice(result.inputMessageCount) }),
  } satisfies ResultJson;
}

/** A call waiting for approval, as results and events show it. */
export function pendingApprovalsJson(result: RunResult): NonNullable<ResultJson["pending_approvals"]> {
  return (result.pendingApprovals ?? []).map((call) => ({ step: call.step, call_id: call.callId, tool: call.name, arguments: call.arguments }));
}

/** `ask --json` of a run that stopped before calls needing approval: its id, status and pending calls. */
export function pausedResultJson(id: string, result: RunResult) {
  return { id, status: "requires_action", pending_approvals: pendingApprovalsJson(result), ...runResultJson(result) } satisfies ResultJson;
}

/** `ask --json` of a run that failed: what it did, and why it stopped. */
export function failedResultJson(error: RunError) {
  return { ...runResultJson(error.partial), error: { code: error.code, message: error.message } } satisfies ResultJson;
}

/** `ask --json` when no run started (a bad flag, config or question): an empty result with the error. */
export function notStartedResultJson(error: { readonly code: string; readonly message: string }) {
  return {
    schema_version: schemaVersion,
    output: "",
    finish_reason: "error",
    steps: [],
    usage: { input_tokens: 0, output_tokens: 0, cached_input_tokens: 0, reasoning_tokens: 0 },
    cost_usd: null,
    trace_id: null,
    duration_ms: 0,
    error: { code: error.code, message: error.message },
  } satisfies ResultJson;
}

/** Milliseconds rounded to two decimals, as every duration in the JSON is. */
export function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
