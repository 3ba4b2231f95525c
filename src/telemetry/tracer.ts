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
  /** The name of the API key (`[[server.keys]]`) the run was started with, never the key: `skiff.key.name`. */
  readonly keyName?: string;
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
  /** `json` when the request asks for structured output (`response_format`), for `gen_ai.output.type`. */
  readonly outputType?: string;
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
  /**
   * The first chunk of a streamed answer arrived: the span records the time to it, and a failure
   * after it is a generation that started and broke off (finish reason `error`). Later calls are
   * ignored. Optional: spans that record no timing leave it out.
   */
  firstChunk?(): void;
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
  /** A person's decision on a tool call that needed approval, as an event on the agent span. */
  approvalDecided(decision: ApprovalSpanInfo): void;
  end(outcome: RunSpanOutcome): void;
}

/** One approval decision, for the agent span's `skiff.approval.decided` event. */
export interface ApprovalSpanInfo {
  readonly callId: string;
  readonly toolName: string;
  readonly approve: boolean;
  /** Who decided: `terminal`, `api`, `approval_timeout`, or an API key's name. */
  readonly by?: string;
  /** How long the call waited for the decision, in ms, when known. */
  readonly waitMs?: number;
}

/** What is known when the HTTP service starts handling a request that runs the agent. */
export interface RequestSpanInfo {
  /** `POST`. */
  readonly method: string;
  /** The route pattern, e.g. `/v1/runs`. */
  readonly route: string;
  /** The request path as received. */
  readonly path: string;
  /** `http` or `https`, when known. */
  readonly scheme?: string;
  /** Host and port the client addressed (the Host header), when it sent one. */
  readonly serverAddress?: string;
  readonly serverPort?: number;
  readonly userAgent?: string;
  /** The caller's W3C traceparent, so the request span joins the caller's trace. */
  readonly traceparent?: string;
}

/** One HTTP request in flight; the run it starts is its child. Ended once. */
export interface RequestSpan {
  /** W3C traceparent naming this span, to start the run under; undefined when not traced. */
  readonly traceparent: string | undefined;
  /** The request is answered (for a stream: the stream ended) with `status`. */
  end(status: number): void;
}

/** The tracing port the loop receives; `noopTracer` when telemetry is off. */
export interface Tracer {
  startRun(info: RunSpanInfo): RunSpan;
  /**
   * Opens the span of an HTTP request that runs the agent (a SERVER span). Optional: tracers
   * that record no requests (the /metrics one) leave it out, and the service then opens none.
   */
  startRequest?(info: RequestSpanInfo): RequestSpan;
}

const noopChatSpan: ChatSpan = { end() {}, fail() {}, event() {}, firstChunk() {} };
const noopToolSpan: ToolSpan = { traceparent: undefined, end() {}, fail() {} };
const noopRunSpan: RunSpan = {
  traceId: undefined,
  startChat: () => noopChatSpan,
  startTool: () => noopToolSpan,
  approvalDecided() {},
  end() {},
};

/** A tracer that records nothing: the default when telemetry is off (no `startRequest`: no request spans). */
export const noopTracer: Tracer = { startRun: () => noopRunSpan };

/** Fans every call out to several tracers (e.g. OTLP export and the `--trace` tree at once). */
export function combineTracers(tracers: readonly Tracer[]): Tracer {
  if (tracers.length === 0) return noopTracer;
  // Pairs, left to right, so calls reach the tracers in their order.
  return tracers.reduce((first, second) => {
    const pair: Tracer = { startRun: (info) => new RunPair(first.startRun(info), second.startRun(info)) };
    // Only one of skiff's tracers records requests (the OpenTelemetry one): the first that does is the pair's.
    const requests = first.startRequest ? first : second.startRequest ? second : undefined;
    return requests?.startRequest ? { ...pair, startRequest: (info) => requests.startRequest!(info) } : pair;
  });
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

  approvalDecided(decision: ApprovalSpanInfo): void {
    this.first.approvalDecided(decision);
    this.second.approvalDecided(decision);
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

  firstChunk(): void {
    this.first.firstChunk?.();
    this.second.firstChunk?.();
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
