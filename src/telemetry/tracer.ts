/**
 * The tracing port: the agent loop opens run and tool spans, the model adapters chat spans. Its
 * implementations are the OpenTelemetry export (otel*.ts), the `--trace` console tree (tree.ts)
 * and the /metrics histograms (metrics-tracer.ts); `combineTracers` runs several at once. It
 * imports the model's data types from their own files, never the Model port, which imports it.
 */
import type { Message, Usage } from "../model/messages.ts";
import type { ModelResponse } from "../model/model-response.ts";
import type { ToolSpec } from "../model/tool-spec.ts";

/** What is known when a run starts. */
export interface RunSpanInfo {
  readonly agentName: string;
  /** The configured model (primary), for `gen_ai.request.model`. */
  readonly requestModel: string;
  /** A real session id, never invented. */
  readonly conversationId?: string;
  /** W3C traceparent of the caller, so the run joins its trace. */
  readonly traceparent?: string;
  /**
   * The trace (32 hex) the run's spans go to, e.g. a resumed run's first attempt's: the agent span
   * is a root in it, or the child of the traceparent's span when one is given too.
   */
  readonly traceId?: string;
  /** Set when this run continues an earlier attempt: the agent span gets a `skiff.run.resumed` event. */
  readonly resumed?: { readonly attempt: number; readonly replica: string };
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

/** What is known when a model attempt starts. */
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

/** One model attempt in flight; ended once, by `end` or `fail`. */
export interface ChatSpan {
  end(response: ModelResponse): void;
  fail(error: unknown): void;
  /** A point in time inside the call, e.g. a retry wait. */
  event(name: string, attributes?: Readonly<Record<string, string | number | boolean>>): void;
}

/** What is known when a tool call starts. */
export interface ToolSpanInfo {
  readonly name: string;
  readonly callId: string;
  readonly description: string;
  /** `function` for tools run in this process, `extension` for remote services. */
  readonly type: string;
  /** Raw JSON arguments from the model (recorded only when content capture is on). */
  readonly arguments: string;
}

/** One tool call in flight; ended once, by `end` or `fail`. */
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

/** The tracing port the loop receives; `noopTracer` when telemetry is off. */
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
  // Pairs, left to right, so calls reach the tracers in their order.
  return tracers.reduce((first, second) => ({ startRun: (info) => new RunPair(first.startRun(info), second.startRun(info)) }));
}

// Classes rather than closures and arrays: an in-flight run holds these for its whole life.

class RunPair implements RunSpan {
  readonly traceId: string | undefined;
  private readonly first: RunSpan;
  private readonly second: RunSpan;

  constructor(first: RunSpan, second: RunSpan) {
    this.first = first;
    this.second = second;
    this.traceId = first.traceId ?? second.traceId;
  }

  startChat(info: ChatSpanInfo): ChatSpan {
    return new ChatPair(this.first.startChat(info), this.second.startChat(info));
  }

  startTool(info: ToolSpanInfo): ToolSpan {
    return new ToolPair(this.first.startTool(info), this.second.startTool(info));
  }

  end(outcome: RunSpanOutcome): void {
    this.first.end(outcome);
    this.second.end(outcome);
  }
}

class ChatPair implements ChatSpan {
  private readonly first: ChatSpan;
  private readonly second: ChatSpan;

  constructor(first: ChatSpan, second: ChatSpan) {
    this.first = first;
    this.second = second;
  }

  end(response: ModelResponse): void {
    this.first.end(response);
    this.second.end(response);
  }

  fail(error: unknown): void {
    this.first.fail(error);
    this.second.fail(error);
  }

  event(name: string, attributes?: Readonly<Record<string, string | number | boolean>>): void {
    this.first.event(name, attributes);
    this.second.event(name, attributes);
  }
}

class ToolPair implements ToolSpan {
  readonly traceparent: string | undefined;
  private readonly first: ToolSpan;
  private readonly second: ToolSpan;

  constructor(first: ToolSpan, second: ToolSpan) {
    this.first = first;
    this.second = second;
    this.traceparent = first.traceparent ?? second.traceparent;
  }

  end(result: string): void {
    this.first.end(result);
    this.second.end(result);
  }

  fail(error: unknown, errorType: string): void {
    this.first.fail(error, errorType);
    this.second.fail(error, errorType);
  }
}
