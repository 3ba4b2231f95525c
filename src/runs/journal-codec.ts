/**
 * Run events as stored and streamed (snake_case JSON, like the rest of the HTTP API) and the
 * journal they make up: `journalEvents` turns what the loop reports into events, `resumePointOf`
 * turns a run's stored events back into where the loop continues after a crash.
 */
import type { ApprovalDecision } from "../agent/approval.ts";
import type { JournalledModelCall, JournalledStep, ResumePoint } from "../agent/journal.ts";
import type { ToolCallRecord } from "../agent/result.ts";
import type { AssistantMessage, ToolCall, Usage } from "../model/messages.ts";
import type { ModelFinishReason, ModelResponse } from "../model/model.ts";
import type { EventFields } from "../contract/event-schema.ts";
import { schemaVersion } from "../contract/schema-version.ts";
import { round, usageJson } from "../contract/result-json.ts";
import type { NewRunEvent, RunEvent } from "./run-store.ts";

/** Event types of a run's stream; the journal is made of `model.completed`, `tool.started` and `tool.finished`. */
export const runEventTypes = [
  "run.queued",
  "run.started",
  "run.resumed",
  "step.started",
  "model.completed",
  "tool.started",
  "tool.finished",
  "run.requires_action",
  "approval.decided",
  "run.completed",
  "run.failed",
  "run.cancelled",
] as const;

/** One of `runEventTypes`. */
export type RunEventType = (typeof runEventTypes)[number];

/** The events that end a run's stream. */
export const finalEventTypes: ReadonlySet<string> = new Set<RunEventType>(["run.completed", "run.failed", "run.cancelled"]);

interface UsageJson {
  readonly input_tokens: number;
  readonly output_tokens: number;
  readonly cached_input_tokens: number;
  readonly reasoning_tokens: number;
}

interface ModelCompletedJson {
  readonly step: number;
  readonly start_ms: number;
  readonly duration_ms: number;
  readonly response: {
    readonly message: AssistantMessage;
    readonly usage: UsageJson;
    readonly finish_reason: ModelFinishReason;
    readonly id: string | null;
    readonly model: string;
    readonly provider: string;
  };
}

interface ToolStartedJson {
  readonly step: number;
  readonly call_id: string;
  readonly name: string;
  readonly arguments: string;
}

interface ToolFinishedJson {
  readonly step: number;
  readonly call_id: string;
  readonly name: string;
  readonly arguments: string;
  readonly ok: boolean;
  readonly output: string;
  readonly start_ms: number;
  readonly duration_ms: number;
}

/**
 * An event of `type`: its JSON is `schema_version`, `type` and `body`, whose fields the published
 * event schema (`skiff schema event`) fixes for that type.
 */
export function runEvent<T extends RunEventType>(type: T, body: EventFields<T>): NewRunEvent {
  return { type, data: eventData(type, body) };
}

/** The JSON of an event of `type` made of `body` (the form every stored and streamed event has). */
export function eventData(type: RunEventType, body: object): string {
  return JSON.stringify({ schema_version: schemaVersion, type, ...body });
}

/** `model.completed`: the model's whole answer, enough to continue without asking it again. */
export function modelCompletedEvent(call: JournalledModelCall): NewRunEvent {
  const { response } = call;
  const body: ModelCompletedJson = {
    step: call.step,
    start_ms: round(call.startMs),
    duration_ms: round(call.durationMs),
    response: {
      message: response.message,
      usage: usageJson(response.usage),
      finish_reason: response.finishReason,
      id: response.id ?? null,
      model: response.model,
      provider: response.provider,
    },
  };
  return runEvent("model.completed", body);
}

/** `tool.started`, one per call, written before the calls start. */
export function toolStartedEvents(step: number, calls: readonly ToolCall[]): NewRunEvent[] {
  return calls.map((call) => runEvent("tool.started", { step, call_id: call.id, name: call.name, arguments: call.arguments } satisfies ToolStartedJson));
}

/** `tool.finished`: what the model is sent for the call. */
export function toolFinishedEvent(step: number, record: ToolCallRecord): NewRunEvent {
  const body: ToolFinishedJson = {
    step,
    call_id: record.id,
    name: record.name,
    arguments: record.arguments,
    ok: record.ok,
    output: record.output,
    start_ms: round(record.startMs),
    duration_ms: round(record.durationMs),
  };
  return runEvent("tool.finished", body);
}

/** `approval.decided`: a person's decision on one call, `by` whom when known. */
export interface ApprovalDecidedJson {
  readonly step: number;
  readonly call_id: string;
  readonly approve: boolean;
  readonly reason: string | null;
  readonly by?: string;
  readonly wait_ms?: number;
}

/** `approval.decided` events, one per decision. */
export function approvalDecidedEvents(step: number, decisions: readonly ApprovalDecision[], extra: { by?: string; waitMs?: number } = {}): NewRunEvent[] {
  return decisions.map((decision) =>
    runEvent("approval.decided", {
      step,
      call_id: decision.callId,
      approve: decision.approve,
      reason: decision.reason ?? null,
      ...(extra.by === undefined ? {} : { by: extra.by }),
      ...(extra.waitMs === undefined ? {} : { wait_ms: Math.round(extra.waitMs) }),
    } satisfies ApprovalDecidedJson),
  );
}

/**
 * Rebuilds where a run stands from its events. Steps are taken in order from `model.completed`;
 * tool events of a step whose model call is not journalled cannot exist (the model call is written
 * first) and are ignored. Throws on an event whose JSON does not parse: a journal is only written
 * by skiff, so that is corruption, not input to forgive.
 */
export function resumePointOf(events: readonly RunEvent[]): ResumePoint {
  const steps = new Map<number, { model: JournalledModelCall; started: Set<string>; finished: Map<string, ToolCallRecord>; decisions: Map<string, ApprovalDecision> }>();
  for (const event of events) {
    switch (event.type) {
      case "model.completed": {
        const body = JSON.parse(event.data) as ModelCompletedJson;
        steps.set(body.step, { model: modelCallOf(body), started: new Set(), finished: new Map(), decisions: new Map() });
        break;
      }
      case "tool.started": {
        const body = JSON.parse(event.data) as ToolStartedJson;
        steps.get(body.step)?.started.add(body.call_id);
        break;
      }
      case "tool.finished": {
        const body = JSON.parse(event.data) as ToolFinishedJson;
        steps.get(body.step)?.finished.set(body.call_id, {
          id: body.call_id,
          name: body.name,
          arguments: body.arguments,
          ok: body.ok,
          output: body.output,
          startMs: body.start_ms,
          durationMs: body.duration_ms,
        });
        break;
      }
      case "approval.decided": {
        const body = JSON.parse(event.data) as ApprovalDecidedJson;
        steps.get(body.step)?.decisions.set(body.call_id, {
          callId: body.call_id,
          approve: body.approve,
          ...(body.reason === null ? {} : { reason: body.reason }),
          ...(body.by === undefined ? {} : { by: body.by }),
          ...(body.wait_ms === undefined ? {} : { waitMs: body.wait_ms }),
        });
        break;
      }
      default:
        break;
    }
  }
  const ordered = [...steps.entries()].sort(([a], [b]) => a - b);
  // Steps are numbered from 1 without gaps; a gap would mean a lost write, and continuing past it
  // would send the model a broken history.
  ordered.forEach(([index], position) => {
    if (index !== position + 1) throw new Error(`the run journal has step ${index} where step ${position + 1} was expected`);
  });
  return {
    steps: ordered.map(([, step]): JournalledStep => ({ model: step.model, startedCallIds: step.started, finished: step.finished, decisions: step.decisions })),
  };
}

function modelCallOf(body: ModelCompletedJson): JournalledModelCall {
  const response: ModelResponse = {
    message: body.response.message,
    usage: usageFromJson(body.response.usage),
    finishReason: body.response.finish_reason,
    id: body.response.id ?? undefined,
    model: body.response.model,
    provider: body.response.provider,
  };
  return { step: body.step, response, startMs: body.start_ms, durationMs: body.duration_ms };
}

function usageFromJson(json: UsageJson): Usage {
  return {
    inputTokens: json.input_tokens,
    outputTokens: json.output_tokens,
    cachedInputTokens: json.cached_input_tokens,
    reasoningTokens: json.reasoning_tokens,
  };
}
