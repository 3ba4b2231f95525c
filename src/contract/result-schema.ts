/**
 * The result document as zod: what `ask --json` prints in every outcome, the body of
 * `POST /v1/runs` (200) and of `GET /v1/runs/{id}` once completed, and the `partial` of a failed
 * run. `skiff schema result` prints its JSON Schema; result-json.ts builds the document typed by
 * it, so a field added on one side and not the other fails the type-check.
 */
import { z } from "zod";
import { finishReasons } from "../agent/result.ts";
import { type DeepReadonly, schemaVersion } from "./schema-version.ts";

export { schemaVersion } from "./schema-version.ts";

/** `schema_version`, first field of every result and event. */
export const schemaVersionField = z.literal(schemaVersion).describe("Version of this document's schema (skiff schema result|event)");

const count = z.number().int().min(0);
const milliseconds = z.number().min(0);

/** Token counts, summed over a run or of one model call. */
export const usageSchema = z.object({
  input_tokens: count,
  output_tokens: count,
  cached_input_tokens: count.describe("Part of input_tokens served from the provider's prompt cache"),
  reasoning_tokens: count.describe("Part of output_tokens spent on hidden reasoning"),
});

const toolCallSchema = z.object({
  id: z.string(),
  name: z.string(),
  arguments: z.string().describe("The JSON text the model wrote, unparsed"),
  extra_content: z.record(z.string(), z.unknown()).optional().describe("Provider data sent back with the call (Gemini)"),
});

/** A chat message, as in OpenAI's chat format. */
export const messageSchema = z.discriminatedUnion("role", [
  z.object({ role: z.literal("system"), content: z.string() }),
  z.object({ role: z.literal("user"), content: z.string() }),
  z.object({
    role: z.literal("assistant"),
    content: z.string().nullable(),
    tool_calls: z.array(toolCallSchema).optional(),
    reasoning_content: z.string().optional(),
    reasoning: z.string().optional(),
  }),
  z.object({ role: z.literal("tool"), tool_call_id: z.string(), content: z.string() }),
]);

/** One tool call of a step, as it ran. */
export const toolCallRecordSchema = z.object({
  id: z.string(),
  name: z.string(),
  arguments: z.string().describe("The JSON text the model wrote, unparsed"),
  ok: z.boolean().describe("False when the model was sent an error instead of a result"),
  output: z.string().describe("What the model was sent, cut to tool_output_limit"),
  start_ms: milliseconds.describe("Start, from the start of the run"),
  duration_ms: milliseconds,
});

/** One model call and the tools it asked for. */
export const stepSchema = z.object({
  index: z.number().int().min(1),
  model: z.string(),
  provider: z.string(),
  response_id: z.string().nullable(),
  finish_reason: z.string().describe("The model's own finish reason (stop, tool_calls, length, …; incomplete when cut off)"),
  usage: usageSchema,
  duration_ms: milliseconds,
  model_duration_ms: milliseconds,
  tool_calls: z.array(toolCallRecordSchema),
});

/** A call waiting for a person's decision. */
export const pendingApprovalSchema = z.object({
  step: z.number().int().min(1),
  call_id: z.string(),
  tool: z.string(),
  arguments: z.string(),
});

/** Why a run failed: `code` from the command line, `type` and `param` from the HTTP API. */
export const errorSchema = z.object({
  code: z.string().optional().describe("Stable code, e.g. run_timeout, run_cancelled, max_steps, budget_exceeded, output_schema, usage, config_invalid"),
  type: z.string().optional().describe("HTTP API error type, e.g. timeout_error, model_error"),
  message: z.string(),
  param: z.string().nullable().optional(),
});

/** The run statuses of the HTTP API (and `ask --json` when a run waits for approvals). */
export const runStatusSchema = z.enum(["queued", "running", "requires_action", "completed", "failed", "cancelled"]);

/** The result document. */
export const resultSchema = z
  .object({
    schema_version: schemaVersionField,
    id: z.string().optional().describe("The run's id (HTTP API; ask --json when the run waits for approvals)"),
    session_id: z.string().nullable().optional().describe("HTTP API: the session the run belongs to"),
    status: runStatusSchema.optional().describe("HTTP API run objects, and ask --json when the run waits for approvals"),
    output: z.string().describe('The final answer ("" when the run stopped before one)'),
    output_json: z.json().optional().describe("With an output schema: the answer parsed, when it was valid"),
    output_schema_errors: z.string().optional().describe("finish_reason output_schema: why the answer in output is not valid, one problem a line"),
    finish_reason: z.enum(finishReasons),
    steps: z.array(stepSchema),
    usage: usageSchema,
    cost_usd: z.number().min(0).nullable().describe("USD, when every model that answered has a price"),
    budget: z.enum(["tokens", "cost"]).optional().describe("finish_reason budget: which budget was reached"),
    pending_approvals: z.array(pendingApprovalSchema).optional().describe("finish_reason requires_action: the calls waiting for a decision"),
    error: errorSchema.optional().describe("Present when the run failed (every non-zero exit of ask)"),
    trace_id: z.string().nullable(),
    duration_ms: milliseconds,
    messages: z.array(messageSchema).optional().describe("ask --json: the messages this run added"),
    // GET /v1/runs/{id} of a completed run adds its run object's fields.
    object: z.literal("run").optional(),
    background: z.boolean().optional(),
    created_at: z.string().optional(),
    updated_at: z.string().optional(),
    attempt: z.number().int().min(1).optional(),
    last_event_id: count.optional(),
  })
  .describe("A skiff run result: ask --json, POST /v1/runs, GET /v1/runs/{id} once completed, the partial of a failed run");

/** The result document as producers build it. */
export type ResultJson = DeepReadonly<z.input<typeof resultSchema>>;
