import { z } from "zod";
import type { OutputSchema } from "../agent/index.ts";
import type { Message } from "../model/messages.ts";
import type { JsonSchema } from "../model/model.ts";
import { sessionIdPattern, sessionIdRule } from "../sessions/index.ts";
import { formatDuration, parseDuration } from "../util/duration.ts";
import { badRequest } from "./http-error.ts";
import { issueError } from "./issues.ts";
import { fromWireMessages, wireMessagesSchema } from "./wire-messages.ts";


/** The server's bounds on what a request may ask for. */
export interface RequestBounds {
  /** Highest `max_steps` a request may ask for (the configured max_steps). */
  readonly maxSteps: number;
  /** Longest `timeout` a request may ask for (server.max_timeout), in ms. */
  readonly maxTimeoutMs: number;
}

/** POST /v1/runs, validated. */
export interface RunRequest {
  readonly input: readonly Message[];
  readonly sessionId: string | undefined;
  readonly stream: boolean;
  /** Detached from the request: answered 202 at once, executed by whichever replica has room. */
  readonly background: boolean;
  readonly maxSteps: number | undefined;
  readonly timeoutMs: number | undefined;
  /** A JSON Schema the final answer must match (structured output), as sent. */
  readonly outputSchemaJson: JsonSchema | undefined;
  /** The schema the run uses, compiled (the request's, else the configured one); set by the route. */
  readonly outputSchema?: OutputSchema;
}

const fields = ["input", "session_id", "stream", "background", "max_steps", "timeout", "output_schema"];

const runBody = z.strictObject({
  // Checked by parseInput, which knows both accepted forms.
  input: z.unknown().optional(),
  session_id: z
    .string()
    .regex(sessionIdPattern, sessionIdRule)
    .optional(),
  stream: z.boolean().optional(),
  background: z.boolean().optional(),
  max_steps: z.number().int().min(1).optional(),
  timeout: z.union([z.number(), z.string()], { error: 'expected seconds (a number) or a duration such as "30s" or "2m"' }).optional(),
  output_schema: z.record(z.string(), z.unknown(), { error: 'expected a JSON Schema object, such as {"type":"object","properties":{…}}' }).optional(),
});

/** Validates a /v1/runs body; throws a 400 naming the first field at fault. */
export function parseRunRequest(body: unknown, bounds: RequestBounds): RunRequest {
  const parsed = runBody.safeParse(body);
  if (!parsed.success) throw issueError(parsed.error.issues, [], fields);
  const value = parsed.data;
  if (value.max_steps !== undefined && value.max_steps > bounds.maxSteps) {
    throw badRequest(`max_steps: ${value.max_steps} is above the server's max_steps of ${bounds.maxSteps}; ask for ${bounds.maxSteps} or fewer`, "max_steps");
  }
  if (value.background === true && value.stream === true) {
    throw badRequest('background: a background run is answered at once with its id; follow it with GET /v1/runs/{id}/events instead of "stream": true', "background");
  }
  return {
    input: parseInput(value.input),
    sessionId: value.session_id,
    stream: value.stream ?? false,
    background: value.background ?? false,
    maxSteps: value.max_steps,
    timeoutMs: value.timeout === undefined ? undefined : parseTimeout(value.timeout, bounds.maxTimeoutMs),
    outputSchemaJson: value.output_schema,
  };
}

function parseInput(input: unknown): Message[] {
  if (input === undefined) throw badRequest('input is required: a question as a string, or an array of chat messages', "input");
  if (typeof input === "string") {
    if (input.trim() === "") throw badRequest("input: the question is empty", "input");
    return [{ role: "user", content: input }];
  }
  if (!Array.isArray(input)) throw badRequest("input: expected a string or an array of chat messages", "input");
  const parsed = wireMessagesSchema.safeParse(input);
  if (!parsed.success) throw issueError(parsed.error.issues, ["input"]);
  return fromWireMessages(parsed.data);
}

/** A timeout in seconds (number) or as a duration text, within (0, maxMs]. */
export function parseTimeout(value: number | string, maxMs: number, param = "timeout"): number {
  const ms = typeof value === "number" ? Math.round(value * 1000) : parseDuration(value);
  if (ms === undefined || !Number.isFinite(ms)) {
    throw badRequest(`${param}: expected seconds (a number) or a duration such as "30s" or "2m", got ${JSON.stringify(value)}`, param);
  }
  if (ms <= 0) throw badRequest(`${param}: must be more than 0`, param);
  if (ms > maxMs) {
    throw badRequest(`${param}: ${formatDuration(ms)} is above the server's max_timeout of ${formatDuration(maxMs)}; ask for ${formatDuration(maxMs)} or less`, param);
  }
  return ms;
}
