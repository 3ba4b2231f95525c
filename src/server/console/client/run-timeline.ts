/**
 * A run's events as they arrive (GET /v1/runs/{id}/events), drawn step by step: the model call
 * with what it wrote, each tool call with its arguments and then its result, decisions on
 * approvals, and the attempts that ran it. Every text is shown as text.
 */
import type { SseEvent } from "./sse.ts";
import { append, el, pre } from "./dom.ts";
import { formatDuration, formatTokens, prettyJson } from "./format.ts";
import type { AssistantMessageJson, UsageJson } from "./types.ts";

type EventData = Readonly<Record<string, unknown>>;

/** The timeline of one run; `apply` draws each event into `root`. */
export class RunTimeline {
  /** Where each step's model call started, in ms from the run's start (for the span tree). */
  readonly modelStarts = new Map<number, number>();
  private readonly steps = new Map<number, HTMLElement>();
  private readonly calls = new Map<string, HTMLElement>();

  constructor(readonly root: HTMLElement) {}

  /** Draws one event. */
  apply(event: SseEvent): void {
    let data: EventData;
    try {
      const parsed: unknown = JSON.parse(event.data);
      data = typeof parsed === "object" && parsed !== null ? (parsed as EventData) : {};
    } catch {
      append(this.root, el("p", { className: "muted" }, `${event.event}: ${event.data}`));
      return;
    }
    const step = typeof data["step"] === "number" ? data["step"] : undefined;
    switch (event.event) {
      case "run.queued":
        return this.note("queued: waiting for a replica with room");
      case "run.started":
        return this.note(`attempt ${String(data["attempt"] ?? 1)} started${typeof data["replica"] === "string" ? ` on ${data["replica"]}` : ""}`);
      case "run.resumed":
        return this.note(`attempt ${String(data["attempt"])} resumed on ${String(data["replica"])} after ${String(data["steps_done"])} step${data["steps_done"] === 1 ? "" : "s"}`);
      case "step.started":
        if (step !== undefined) this.step(step);
        return;
      case "model.completed":
        if (step !== undefined) this.modelCompleted(step, data);
        return;
      case "tool.started":
      case "tool.finished":
        if (step !== undefined) this.tool(step, data, event.event === "tool.finished");
        return;
      case "approval.decided":
        return this.decided(data);
      case "run.requires_action":
        return this.note("waiting for a person to approve or deny the calls above");
      default:
        // Final events are drawn from the run object by the page.
        return;
    }
  }

  private note(text: string): void {
    append(this.root, el("p", { className: "event-note" }, text));
  }

  private step(index: number): HTMLElement {
    let section = this.steps.get(index);
    if (!section) {
      section = el("section", { className: "step", attrs: { "data-step": String(index) } }, el("h3", {}, `Step ${index}`));
      this.steps.set(index, section);
      append(this.root, section);
    }
    return section;
  }

  private modelCompleted(index: number, data: EventData): void {
    const response = (data["response"] ?? {}) as { message?: AssistantMessageJson; usage?: UsageJson; finish_reason?: string; model?: string };
    if (typeof data["start_ms"] === "number") this.modelStarts.set(index, data["start_ms"]);
    const message = response.message ?? {};
    const reasoning = message.reasoning_content ?? message.reasoning;
    const duration = typeof data["duration_ms"] === "number" ? data["duration_ms"] : undefined;
    append(
      this.step(index),
      el(
        "div",
        { className: "model-call" },
        el("p", { className: "call-head" }, el("strong", {}, `chat ${response.model ?? ""}`), ` · ${formatDuration(duration)} · ${formatTokens(response.usage)} · ${response.finish_reason ?? ""}`),
        reasoning ? el("details", {}, el("summary", {}, "reasoning"), pre(reasoning, "text")) : null,
        message.content ? pre(message.content, "text") : null,
      ),
    );
  }

  private tool(index: number, data: EventData, finished: boolean): void {
    const callId = String(data["call_id"] ?? "");
    let card = this.calls.get(callId);
    if (!card) {
      card = el(
        "div",
        { className: "tool-call", attrs: { "data-call-id": callId } },
        el("p", { className: "call-head" }, el("strong", {}, `execute_tool ${String(data["name"] ?? "")}`), ` · ${callId}`),
        el("p", { className: "label" }, "arguments"),
        pre(prettyJson(String(data["arguments"] ?? "")), "json"),
        el("p", { className: "tool-state muted" }, "running…"),
      );
      this.calls.set(callId, card);
      append(this.step(index), card);
    }
    if (!finished) return;
    const ok = data["ok"] === true;
    const state = card.querySelector(".tool-state");
    state?.replaceWith(
      el("p", { className: `tool-state ${ok ? "ok" : "failed"}` }, `${ok ? "result" : "error"} · ${formatDuration(typeof data["duration_ms"] === "number" ? data["duration_ms"] : undefined)}`),
      pre(String(data["output"] ?? ""), "text output"),
    );
  }

  private decided(data: EventData): void {
    const callId = String(data["call_id"] ?? "");
    const reason = typeof data["reason"] === "string" && data["reason"] !== "" ? `: ${data["reason"]}` : "";
    const by = typeof data["by"] === "string" ? ` by ${data["by"]}` : "";
    const line = el("p", { className: data["approve"] === true ? "decision ok" : "decision failed" }, `${data["approve"] === true ? "approved" : "denied"}${by}${reason}`);
    const card = this.calls.get(callId);
    if (card) append(card, line);
    else {
      // A call that waited for its decision has not started yet: the decision opens its place.
      line.prepend(`${callId} `);
      append(typeof data["step"] === "number" ? this.step(data["step"]) : this.root, line);
    }
  }
}
