/**
 * One stream event as zod: the `data:` of the SSE streams (`POST /v1/runs` with `"stream": true`,
 * `GET /v1/runs/{id}/events`) and one line of `skiff ask --stream-json`. Every event carries
 * `schema_version` and its `type` (the SSE `event:` name). `skiff schema event` prints its JSON
 * Schema; the code that writes each event is typed by the member of its type.
 */
import { z } from "zod";
import type { DeepReadonly } from "./schema-version.ts";
import { errorSchema, messageSchema, pendingApprovalSchema, resultSchema, runStatusSchema, schemaVersionField, usageSchema } from "./result-schema.ts";

const step = z.number().int().min(1);
const milliseconds = z.number().min(0);

/** The fields of each event type, besides `schema_version` and `type`. */
const eventFields = {
  "run.queued": z.object({ id: z.string() }).describe("A background run waits for a replica with room"),
  "run.started": z
    .object({
      id: z.string().optional(),
      session_id: z.string().nullable().optional(),
      attempt: z.number().int().min(1).optional(),
      replica: z.string().optional(),
      session_version: z.number().int().min(0).optional(),
    })
    .describe("The run started: ids on POST /v1/runs, attempt and replica in the stored events"),
  "run.resumed": z.object({ attempt: z.number().int().min(1), replica: z.string(), steps_done: z.number().int().min(0) }).describe("Another attempt continues the run from its journal"),
  "step.started": z.object({ step }).describe("A model call starts"),
  "model.delta": z.object({ step, text: z.string() }).describe("Text the model wrote (streamed runs)"),
  "model.completed": z
    .object({
      step,
      start_ms: milliseconds,
      duration_ms: milliseconds,
      response: z.object({
        message: messageSchema,
        usage: usageSchema,
        finish_reason: z.enum(["stop", "tool_calls", "length", "content_filter", "other"]),
        id: z.string().nullable(),
        model: z.string(),
        provider: z.string(),
      }),
    })
    .describe("The model's whole answer (stored events)"),
  "tool.started": z.object({ step, call_id: z.string(), name: z.string(), arguments: z.string() }),
  "tool.finished": z.object({
    step,
    call_id: z.string(),
    name: z.string(),
    arguments: z.string().optional(),
    ok: z.boolean(),
    output: z.string(),
    start_ms: milliseconds.optional(),
    duration_ms: milliseconds,
  }),
  "approval.decided": z.object({
    step,
    call_id: z.string(),
    approve: z.boolean(),
    reason: z.string().nullable(),
    by: z.string().optional(),
    wait_ms: z.number().int().min(0).optional(),
  }),
  "run.requires_action": resultSchema
    .omit({ schema_version: true })
    .partial()
    .extend({
      id: z.string(),
      session_id: z.string().nullable().optional(),
      status: z.literal("requires_action"),
      pending_approvals: z.array(pendingApprovalSchema),
      requested_at: z.string().optional().describe("ISO time the run paused (HTTP API)"),
    })
    .describe("The run waits for decisions on pending_approvals"),
  "run.completed": resultSchema.omit({ schema_version: true }).describe("The run's result, last event of a run that answered"),
  "run.failed": z
    .object({ id: z.string().optional(), status: runStatusSchema.optional(), error: errorSchema, partial: resultSchema.optional().describe("What the run did before it stopped") })
    .describe("Last event of a run that failed"),
  "run.cancelled": z
    .object({ id: z.string().optional(), status: runStatusSchema.optional(), error: errorSchema, partial: resultSchema.optional() })
    .describe("Last event of a cancelled run"),
} as const;

/** Every event type, in the order a run goes through them. */
export type EventType = keyof typeof eventFields;

/** The fields of an event of `type`, as its writer builds them (without `schema_version` and `type`). */
export type EventFields<T extends EventType> = DeepReadonly<z.input<(typeof eventFields)[T]>>;

const members = Object.entries(eventFields).map(([type, fields]) => {
  const member = z.object({ schema_version: schemaVersionField, type: z.literal(type), ...fields.shape });
  return fields.description === undefined ? member : member.describe(fields.description);
});

/** One event: `schema_version`, `type`, and that type's fields. */
export const eventSchema = z
  .discriminatedUnion("type", members as unknown as [(typeof members)[number], ...(typeof members)[number][]])
  .describe("One skiff run event: an SSE data line of /v1/runs and /v1/runs/{id}/events, or a line of ask --stream-json");

/** Every event type. */
export const eventTypes = Object.keys(eventFields) as EventType[];
