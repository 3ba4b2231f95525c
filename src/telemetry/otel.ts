/**
 * The OpenTelemetry adapter of the Tracer port: each run becomes an `invoke_agent` span with its
 * `chat` and `execute_tool` spans as children, carrying the GenAI semantic conventions' attributes
 * (names in semconv.ts). It speaks only @opentelemetry/api; the SDK, exporter and processors are
 * set up in otel-setup.ts.
 *
 * Spans are recorded lazily. A run spends seconds waiting on the network with its agent span and
 * a few tool or chat spans open, and an open SDK span (with its context) costs far more than the
 * data it will export: several KiB per in-flight run, times thousands of concurrent runs. So while
 * a span is open only a small record is kept (start time, attributes so far, events, status), and
 * the SDK span is created when the operation ends and ended at once, with the recorded times: it
 * lives for microseconds. What reaches processors and exporters is unchanged.
 *
 * - Ids and the sampling decision are fixed when the run starts (LateSpans, otel-setup.ts): the
 *   trace id is known for results and logs, a tool's traceparent names its span before the span
 *   exists, and a run the sampler drops records nothing at all. Every span of a run follows the
 *   run's decision, as the parent-based samplers make children do.
 * - A child is emitted as soon as it ends, with the run's span context as its parent
 *   (trace.wrapSpanContext), so nothing waits for the run; the agent span is emitted last, at the
 *   run's end, after any children the run had to close (the `--trace` tree relies on that order).
 *
 * Parents are always passed explicitly, never read from AsyncLocalStorage, so parallel tools stay
 * siblings whatever the runtime does with async context (several Bun ALS regressions are on
 * record, see otel-genai.md §6.5).
 */
import {
  type Attributes,
  type AttributeValue,
  type Context,
  ROOT_CONTEXT,
  SamplingDecision,
  type SamplingResult,
  type Span,
  SpanKind,
  type SpanOptions,
  type SpanStatus,
  SpanStatusCode,
  trace,
  TraceFlags,
} from "@opentelemetry/api";
import type { Usage } from "../model/messages.ts";
import type { ModelResponse } from "../model/model.ts";
import {
  answerMessagesJson,
  inputMessagesJson,
  outputMessagesJson,
  splitSystem,
  systemInstructionsJson,
  toolArgumentsJson,
  toolDefinitionsJson,
  toolResultJson,
} from "./content.ts";
import { errorMessageOf, errorTypeOf } from "./error-type.ts";
import * as sc from "./semconv.ts";
import { formatTraceparent, parseTraceparent, type TraceParent } from "./traceparent.ts";
import type { ChatSpan, ChatSpanInfo, RunSpan, RunSpanInfo, RunSpanOutcome, ToolSpan, ToolSpanInfo, Tracer } from "./tracer.ts";

/** What the OTel Tracer adapter needs. */
export interface OtelTracerOptions {
  /** Creates SDK spans late, with ids and a sampling decision fixed earlier (otel-setup.ts). */
  readonly spans: LateSpans;
  /** Record prompts, answers, tool arguments and results as span attributes (opt-in). */
  readonly captureContent: boolean;
}

/** What a span created late uses instead of the provider's id generator and sampler. */
export interface SpanPreset {
  /** The trace id of a root span (a child takes its parent's). */
  readonly traceId?: string;
  /** The span id; a fresh one when undefined. */
  readonly spanId?: string;
  readonly sampling: SamplingResult;
}

/**
 * The SDK side of lazy recording, which otel-setup.ts implements over its provider: random W3C
 * ids, the configured sampler, and a startSpan that takes its ids and sampling decision from a
 * preset instead of generating and sampling anew.
 */
export interface LateSpans {
  /** 32 lowercase hex characters, not all zero. */
  newTraceId(): string;
  /** 16 lowercase hex characters, not all zero. */
  newSpanId(): string;
  /** The configured sampler's decision for a run's span, asked once, when the run starts. */
  sample(context: Context, traceId: string, name: string, kind: SpanKind, attributes: Attributes): SamplingResult;
  /** `tracer.startSpan`, using the preset's ids and sampling decision. */
  startSpan(name: string, options: SpanOptions, context: Context, preset: SpanPreset): Span;
}

/** Creates the Tracer that turns runs into GenAI spans. */
export function createOtelTracer(options: OtelTracerOptions): Tracer {
  return { startRun: (info) => startRun(options, info) };
}

function startRun(options: OtelTracerOptions, info: RunSpanInfo): RunSpan {
  const { spans } = options;
  // The SDK stamps span starts with Date.now() (whole milliseconds); parallel tools a fraction of a
  // millisecond apart would blur. So times come from one monotonic clock anchored to the wall
  // clock once per run: exact within the run, no drift across a long-lived process.
  const wall = Date.now();
  const mono = performance.now();
  const caller = info.traceparent === undefined ? undefined : parseTraceparent(info.traceparent);
  const traceId = caller?.traceId ?? spans.newTraceId();
  const attributes: Attributes = {
    [sc.ATTR_GEN_AI_OPERATION_NAME]: sc.GEN_AI_OPERATION_INVOKE_AGENT,
    [sc.ATTR_GEN_AI_AGENT_NAME]: info.agentName,
    [sc.ATTR_GEN_AI_REQUEST_MODEL]: info.requestModel,
  };
  if (info.conversationId !== undefined) attributes[sc.ATTR_GEN_AI_CONVERSATION_ID] = info.conversationId;
  const parent = callerContext(caller);
  const sampling = shared(spans.sample(parent, traceId, agentSpanName(info.agentName), SpanKind.INTERNAL, attributes));
  if (sampling.decision === SamplingDecision.NOT_RECORD) return new UnrecordedRun(spans, traceId);
  if (options.captureContent) {
    const { system, rest } = splitSystem(info.input);
    setJson(attributes, sc.ATTR_GEN_AI_SYSTEM_INSTRUCTIONS, systemInstructionsJson(system));
    attributes[sc.ATTR_GEN_AI_INPUT_MESSAGES] = inputMessagesJson(rest);
    setJson(attributes, sc.ATTR_GEN_AI_TOOL_DEFINITIONS, toolDefinitionsJson(info.tools));
  }
  return new RecordedRun(options, info, traceId, spans.newSpanId(), parent, sampling, attributes, wall, mono);
}

/** A run the sampler dropped: ids for results and tools' traceparents, nothing recorded. */
class UnrecordedRun implements RunSpan {
  readonly traceId: string;
  private readonly spans: LateSpans;

  constructor(spans: LateSpans, traceId: string) {
    this.spans = spans;
    this.traceId = traceId;
  }

  startChat(): ChatSpan {
    return unrecordedChat;
  }

  startTool(): ToolSpan {
    // Its own span id, as the SDK gives a non-recording span, and the sampled flag off.
    return new UnrecordedTool(formatTraceparent({ traceId: this.traceId, spanId: this.spans.newSpanId(), sampled: false }));
  }

  end(): void {}
}

const unrecordedChat: ChatSpan = { end() {}, fail() {}, event() {} };

class UnrecordedTool implements ToolSpan {
  readonly traceparent: string;

  constructor(traceparent: string) {
    this.traceparent = traceparent;
  }

  end(): void {}
  fail(): void {}
}

/** A recorded run: the agent span's record, and the records of its children still open. */
class RecordedRun implements RunSpan {
  readonly traceId: string;
  readonly options: OtelTracerOptions;
  /** The agent span's id, fixed at the start so children can name it as their parent. */
  private readonly spanId: string;
  private readonly agentName: string;
  private readonly conversationId: string | undefined;
  /** The caller's context (a remote parent) or the root context. */
  private readonly parent: Context;
  readonly sampling: SamplingResult;
  private readonly attributes: Attributes;
  private readonly wall: number;
  private readonly mono: number;
  /** Children the run closes itself if they are still open when it ends. */
  private readonly open: OpenSpan[] = [];
  private ended = false;

  constructor(
    options: OtelTracerOptions,
    info: RunSpanInfo,
    traceId: string,
    spanId: string,
    parent: Context,
    sampling: SamplingResult,
    attributes: Attributes,
    wall: number,
    mono: number,
  ) {
    this.options = options;
    this.traceId = traceId;
    this.spanId = spanId;
    this.agentName = info.agentName;
    this.conversationId = info.conversationId;
    this.parent = parent;
    this.sampling = sampling;
    this.attributes = attributes;
    this.wall = wall;
    this.mono = mono;
  }

  /** Epoch milliseconds with sub-millisecond precision, from the run's monotonic clock. */
  at(): number {
    return this.wall + (performance.now() - this.mono);
  }

  get sampled(): boolean {
    return this.sampling.decision === SamplingDecision.RECORD_AND_SAMPLED;
  }

  startChat(chat: ChatSpanInfo): ChatSpan {
    const attributes: Attributes = {
      [sc.ATTR_GEN_AI_OPERATION_NAME]: sc.GEN_AI_OPERATION_CHAT,
      [sc.ATTR_GEN_AI_PROVIDER_NAME]: chat.provider,
      [sc.ATTR_GEN_AI_REQUEST_MODEL]: chat.model,
    };
    if (chat.serverAddress !== undefined) attributes[sc.ATTR_SERVER_ADDRESS] = chat.serverAddress;
    if (chat.serverPort !== undefined) attributes[sc.ATTR_SERVER_PORT] = chat.serverPort;
    // Conditionally required "if and only if the request streams": never set to false.
    if (chat.stream) attributes[sc.ATTR_GEN_AI_REQUEST_STREAM] = true;
    if (this.conversationId !== undefined) attributes[sc.ATTR_GEN_AI_CONVERSATION_ID] = this.conversationId;
    const startTime = this.at();
    if (this.options.captureContent) {
      const { system, rest } = splitSystem(chat.messages);
      setJson(attributes, sc.ATTR_GEN_AI_SYSTEM_INSTRUCTIONS, systemInstructionsJson(system));
      attributes[sc.ATTR_GEN_AI_INPUT_MESSAGES] = inputMessagesJson(rest);
      setJson(attributes, sc.ATTR_GEN_AI_TOOL_DEFINITIONS, toolDefinitionsJson(chat.tools));
    }
    return this.track(new OpenChat(this, chat.model, attributes, startTime));
  }

  startTool(tool: ToolSpanInfo): ToolSpan {
    const attributes: Attributes = {
      [sc.ATTR_GEN_AI_OPERATION_NAME]: sc.GEN_AI_OPERATION_EXECUTE_TOOL,
      [sc.ATTR_GEN_AI_TOOL_NAME]: tool.name,
      [sc.ATTR_GEN_AI_TOOL_CALL_ID]: tool.callId,
      [sc.ATTR_GEN_AI_TOOL_TYPE]: tool.type,
      [sc.ATTR_GEN_AI_AGENT_NAME]: this.agentName,
    };
    if (tool.description !== "") attributes[sc.ATTR_GEN_AI_TOOL_DESCRIPTION] = tool.description;
    const startTime = this.at();
    if (this.options.captureContent) attributes[sc.ATTR_GEN_AI_TOOL_CALL_ARGUMENTS] = toolArgumentsJson(tool.arguments);
    const traceparent = formatTraceparent({ traceId: this.traceId, spanId: this.options.spans.newSpanId(), sampled: this.sampled });
    return this.track(new OpenTool(this, tool.name, attributes, startTime, traceparent));
  }

  end(outcome: RunSpanOutcome): void {
    if (this.ended) return;
    this.ended = true;
    // DESIGN §2: a run that ends (cancelled, timed out) closes every span it still has open.
    const why = outcome.error ?? new Error("the run ended before this operation finished");
    for (const child of [...this.open]) child.abandon(why);
    const attributes = this.attributes;
    setUsage(attributes, outcome.usage);
    if (outcome.costUsd !== undefined) {
      attributes[sc.ATTR_GEN_AI_USAGE_COST_AMOUNT] = outcome.costUsd;
      attributes[sc.ATTR_GEN_AI_USAGE_COST_CURRENCY] = "USD";
    }
    attributes[sc.ATTR_GEN_AI_RESPONSE_FINISH_REASONS] = [outcome.finishReason];
    if (this.options.captureContent && outcome.error === undefined && outcome.output !== undefined && outcome.output !== "") {
      attributes[sc.ATTR_GEN_AI_OUTPUT_MESSAGES] = answerMessagesJson(outcome.output, outcome.finishReason);
    }
    const status = outcome.error === undefined ? undefined : markError(attributes, errorTypeOf(outcome.error), outcome.error);
    const preset: SpanPreset = { traceId: this.traceId, spanId: this.spanId, sampling: this.sampling };
    emit(this.options.spans, agentSpanName(this.agentName), SpanKind.INTERNAL, attributes, this.wall, this.at(), this.parent, preset, undefined, status);
  }

  /** Creates a finished child's SDK span, as a child of the agent span (which may not exist yet). */
  emitChild(child: OpenSpan, endTime: number): void {
    const index = this.open.indexOf(child);
    if (index >= 0) this.open.splice(index, 1);
    const parent = trace.setSpan(
      ROOT_CONTEXT,
      trace.wrapSpanContext({
        traceId: this.traceId,
        spanId: this.spanId,
        traceFlags: this.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
        traceState: this.sampling.traceState,
      }),
    );
    const spanId = child.spanId;
    const preset: SpanPreset = spanId === undefined ? { sampling: this.sampling } : { spanId, sampling: this.sampling };
    emit(this.options.spans, child.name(), child.kind, child.attributes, child.startTime, endTime, parent, preset, child.events, child.status);
  }

  private track<T extends OpenSpan>(child: T): T {
    // A child started after the run ended is not the run's to close.
    if (!this.ended) this.open.push(child);
    return child;
  }
}

interface RecordedEvent {
  readonly name: string;
  readonly attributes: Attributes | undefined;
  readonly time: number;
}

/** An open chat or tool span: what its SDK span will be created with. */
abstract class OpenSpan {
  readonly run: RecordedRun;
  /** The model or tool name, for the span name. */
  protected readonly label: string;
  readonly attributes: Attributes;
  readonly startTime: number;
  events: RecordedEvent[] | undefined;
  status: SpanStatus | undefined;
  /** Set once the span is emitted; later calls are no-ops, as on an ended SDK span. */
  done = false;
  abstract get kind(): SpanKind;

  constructor(run: RecordedRun, label: string, attributes: Attributes, startTime: number) {
    this.run = run;
    this.label = label;
    this.attributes = attributes;
    this.startTime = startTime;
  }

  abstract name(): string;

  /** The span id fixed in advance, if any (else the SDK makes one when the span is created). */
  get spanId(): string | undefined {
    return undefined;
  }

  /** Closed by the run's end while still open. */
  abandon(error: unknown): void {
    this.failWith(errorTypeOf(error), error);
  }

  protected failWith(errorType: string, error: unknown): void {
    if (this.done) return;
    this.status = markError(this.attributes, errorType, error);
    this.finish();
  }

  protected finish(): void {
    if (this.done) return;
    this.done = true;
    this.run.emitChild(this, this.run.at());
  }
}

class OpenChat extends OpenSpan implements ChatSpan {
  get kind(): SpanKind {
    return SpanKind.CLIENT;
  }

  name(): string {
    return `chat ${this.label}`;
  }

  end(response: ModelResponse): void {
    if (this.done) return;
    const attributes = this.attributes;
    if (response.id !== undefined) attributes[sc.ATTR_GEN_AI_RESPONSE_ID] = response.id;
    attributes[sc.ATTR_GEN_AI_RESPONSE_MODEL] = response.model;
    attributes[sc.ATTR_GEN_AI_RESPONSE_FINISH_REASONS] = [response.finishReason];
    setUsage(attributes, response.usage);
    if (this.run.options.captureContent) {
      attributes[sc.ATTR_GEN_AI_OUTPUT_MESSAGES] = outputMessagesJson(response.message, response.finishReason);
    }
    this.finish();
  }

  fail(error: unknown): void {
    this.failWith(errorTypeOf(error), error);
  }

  event(name: string, attributes?: Readonly<Record<string, string | number | boolean>>): void {
    if (this.done) return;
    // A copy, as the SDK's addEvent keeps one.
    (this.events ??= []).push({ name, attributes: attributes === undefined ? undefined : { ...attributes }, time: this.run.at() });
  }
}

class OpenTool extends OpenSpan implements ToolSpan {
  /** Names this span, whose id is fixed now: the tool passes it on while it runs. */
  readonly traceparent: string;

  constructor(run: RecordedRun, tool: string, attributes: Attributes, startTime: number, traceparent: string) {
    super(run, tool, attributes, startTime);
    this.traceparent = traceparent;
  }

  get kind(): SpanKind {
    return SpanKind.INTERNAL;
  }

  name(): string {
    return `execute_tool ${this.label}`;
  }

  /** The span id, read back from the traceparent rather than held twice. */
  override get spanId(): string {
    return this.traceparent.slice(36, 52);
  }

  end(result: string): void {
    if (this.done) return;
    // The result is recorded only for calls that succeeded, as the conventions say.
    if (this.run.options.captureContent) this.attributes[sc.ATTR_GEN_AI_TOOL_CALL_RESULT] = toolResultJson(result);
    this.finish();
  }

  fail(error: unknown, errorType: string): void {
    this.failWith(errorType, error);
  }
}

/** Creates an SDK span from a record and ends it at once: the span lives for microseconds. */
function emit(
  spans: LateSpans,
  name: string,
  kind: SpanKind,
  attributes: Attributes,
  startTime: number,
  endTime: number,
  parent: Context,
  preset: SpanPreset,
  events: readonly RecordedEvent[] | undefined,
  status: SpanStatus | undefined,
): void {
  const span = spans.startSpan(name, { kind, attributes, startTime }, parent, preset);
  if (events !== undefined) for (const event of events) span.addEvent(event.name, event.attributes, event.time);
  if (status !== undefined) span.setStatus(status);
  span.end(endTime);
}

function agentSpanName(agentName: string): string {
  return `invoke_agent ${agentName}`;
}

/** The caller's trace when a valid traceparent came with the run, else a new root. */
function callerContext(parent: TraceParent | undefined): Context {
  if (!parent) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: parent.traceId,
    spanId: parent.spanId,
    traceFlags: parent.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  });
}

const sharedResults: Readonly<Record<SamplingDecision, SamplingResult>> = {
  [SamplingDecision.NOT_RECORD]: Object.freeze({ decision: SamplingDecision.NOT_RECORD }),
  [SamplingDecision.RECORD]: Object.freeze({ decision: SamplingDecision.RECORD }),
  [SamplingDecision.RECORD_AND_SAMPLED]: Object.freeze({ decision: SamplingDecision.RECORD_AND_SAMPLED }),
};

/** A plain decision as one shared object, so each in-flight run does not hold its own copy. */
function shared(result: SamplingResult): SamplingResult {
  return result.attributes === undefined && result.traceState === undefined ? (sharedResults[result.decision] ?? result) : result;
}

/** Token counts; cache and reasoning only when the provider reported some. */
function setUsage(attributes: Attributes, usage: Usage): void {
  attributes[sc.ATTR_GEN_AI_USAGE_INPUT_TOKENS] = usage.inputTokens;
  attributes[sc.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS] = usage.outputTokens;
  if (usage.cachedInputTokens > 0) attributes[sc.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = usage.cachedInputTokens;
  if (usage.reasoningTokens > 0) attributes[sc.ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = usage.reasoningTokens;
}

/** Sets `error.type` and returns status ERROR with the message as description (success leaves the status UNSET). */
function markError(attributes: Attributes, errorType: string, error: unknown): SpanStatus {
  attributes[sc.ATTR_ERROR_TYPE] = errorType;
  return { code: SpanStatusCode.ERROR, message: errorMessageOf(error) };
}

function setJson(attributes: Attributes, key: string, value: AttributeValue | undefined): void {
  if (value !== undefined) attributes[key] = value;
}
