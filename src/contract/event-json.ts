/**
 * Builds stream events: `schema_version` and `type` first, then the fields the event schema gives
 * that type (the compiler holds every writer to them). Shared by the SSE stream of POST /v1/runs,
 * the stored events of GET /v1/runs/{id}/events and `skiff ask --stream-json`.
 */
import type { AgentEvent } from "../agent/index.ts";
import type { EventFields, EventType } from "./event-schema.ts";
import { schemaVersion } from "./schema-version.ts";

/** An event of `type` with its fields. */
export function eventJson<T extends EventType>(type: T, fields: EventFields<T>): { readonly schema_version: number; readonly type: T } & EventFields<T> {
  return { schema_version: schemaVersion, type, ...fields };
}

/**
 * The loop's progress events as the API streams them (snake_case), or undefined for those it
 * does not stream: the run's start and end are written by the caller, with its ids and result.
 */
export function progressEventJson(event: AgentEvent): object | undefined {
  switch (event.type) {
    case "step.started":
      return eventJson("step.started", { step: event.step });
    case "model.delta":
      return eventJson("model.delta", { step: event.step, text: event.text });
    case "tool.started":
      return eventJson("tool.started", { step: event.step, call_id: event.callId, name: event.name, arguments: event.arguments });
    case "tool.finished":
      return eventJson("tool.finished", {
        step: event.step,
        call_id: event.callId,
        name: event.name,
        ok: event.ok,
        output: event.output,
        duration_ms: Math.round(event.durationMs * 100) / 100,
      });
    default:
      return undefined;
  }
}
