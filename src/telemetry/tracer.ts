/**
 * The tracing port. The agent loop and the model adapters speak only this; adapters
 * (otel.ts for OpenTelemetry, tree.ts for the `--trace` console tree) implement it.
 */
import type { Message, Usage } from "../model/messages.ts";
import type { ModelResponse, ToolSpec } from "../model/model.ts";

/** What is known when a run starts. */
export interface RunSpanInfo {
  readonly agentName: string;
  /** The configured model (primary), for `gen_ai.request.model`. */
  readonly requestModel: string;
  /** A real session id, never invented. */
  readonly conversationId?: string;
  /** W3C traceparent of the caller, so the run joins its trace. */
  readonly traceparent?: string;
  /** The messages the run starts from (recorded only when content capture is on). */
  readonly input: readonly Message[];
  readonly tools: readonly ToolSpec[];
}

/** How a run ended, for the agent span. */
export interface RunSpanOutcome {
  readonly usage: Usage;
  readonly finishReason: string;
  readonly output?: string;
  readonly costUsd?: number;
  /** Set when the run failed; the span gets status ERROR and `error.type`. */
  readonly error?: unknown;
}

/** Opens `chat {model}` spans; one per model attempt (retries and fallbacks each get their own). */
export interface ChatSpanFactory {
  startChat(info: ChatSpanInfo): ChatSpan;
}

export interface ChatSpanInfo {
  readonly model: string;
  readonly provider: string;
  readonly serverAddress?: string;
  readonly serverPort?: number;
  readonly stream: boolean;
  /** 1 for the first attempt, 2 for the first retry, … */
  readonly attempt: number;
  readonly messages: readonly Message[];
  readonly tools: readonly ToolSpec[];
}

export interface ChatSpan {
  end(response: ModelResponse): void;
  fail(error: unknown): void;
  /** A point in time inside the call, e.g. a retry wait. */
  event(name: string, attributes?: Readonly<Record<string, string | number | boolean>>): void;
}

export interface ToolSpanInfo {
  readonly name: string;
  readonly callId: string;
  readonly description: string;
  /** `function` for tools run in this process, `extension` for remote services. */
  readonly type: string;
  /** Raw JSON arguments from the model (recorded only when content capture is on). */
  readonly arguments: string;
}

export interface ToolSpan {
  /** W3C traceparent naming this span, to pass to HTTP tools; undefined when not traced. */
  readonly traceparent: string | undefined;
  end(result: string): void;
  fail(error: unknown, errorType: string): void;
}

/** The span of one agent run, and the parent of its chat and tool spans. */
export interface RunSpan extends ChatSpanFactory {
  /** Trace id (32 hex chars) when traced, for results and logs. */
  readonly traceId: string | undefined;
  startTool(info: ToolSpanInfo): ToolSpan;
  end(outcome: RunSpanOutcome): void;
}

export interface Tracer {
  startRun(info: RunSpanInfo): RunSpan;
}

const noopChatSpan: ChatSpan = { end() {}, fail() {}, event() {} };
const noopToolSpan: ToolSpan = { traceparent: undefined, end() {}, fail() {} };
const noopRunSpan: RunSpan = {
  traceId: undefined,
  startChat: () => noopChatSpan,
  startTool: () => noopToolSpan,
  end() {},
};

/** A tracer that records nothing: the default when telemetry is off. */
export const noopTracer: Tracer = { startRun: () => noopRunSpan };

/** Fans every call out to several tracers (e.g. OTLP export and the `--trace` tree at once). */
export function combineTracers(tracers: readonly Tracer[]): Tracer {
  if (tracers.length === 0) return noopTracer;
  if (tracers.length === 1) return tracers[0]!;
  return {
    startRun(info) {
      const runs = tracers.map((t) => t.startRun(info));
      return {
        traceId: runs.find((r) => r.traceId !== undefined)?.traceId,
        startChat(chatInfo) {
          const chats = runs.map((r) => r.startChat(chatInfo));
          return {
            end: (response) => chats.forEach((c) => c.end(response)),
            fail: (error) => chats.forEach((c) => c.fail(error)),
            event: (name, attributes) => chats.forEach((c) => c.event(name, attributes)),
          };
        },
        startTool(toolInfo) {
          const toolSpans = runs.map((r) => r.startTool(toolInfo));
          return {
            traceparent: toolSpans.find((t) => t.traceparent !== undefined)?.traceparent,
            end: (result) => toolSpans.forEach((t) => t.end(result)),
            fail: (error, errorType) => toolSpans.forEach((t) => t.fail(error, errorType)),
          };
        },
        end: (outcome) => runs.forEach((r) => r.end(outcome)),
      };
    },
  };
}
