/**
 * The OpenTelemetry adapter of the Tracer port: each run becomes an `invoke_agent` span with its
 * `chat` and `execute_tool` spans as children, carrying the GenAI conventions' attributes
 * (genai-attributes.ts). Spans are skiff's own records, handed to the span processors as
 * `ReadableSpan`s (exported-span.ts) when their operation ends; no SDK Tracer or Span is used.
 *
 * Why records: a run spends seconds waiting on the network with its agent span and a few tool or
 * chat spans open, and an open SDK span (with its context) costs far more than the data it will
 * export: several KiB per in-flight run, times thousands of concurrent runs. A record holds only
 * what the span will be made of (start time, attributes so far, events, status).
 *
 * - Ids and sampling are fixed when the run starts: the trace id is known for results and logs, a
 *   tool's traceparent names its span before the span ends, and a run the sampler drops records
 *   nothing. Every span of a run follows the run's decision, as parent-based samplers make
 *   children do. Ids are drawn from the SDK's RandomIdGenerator: trace and agent span at the start,
 *   a tool's at its start, a chat's when it ends (nothing needs it earlier).
 * - A child is handed over as soon as it ends; the agent span last, at the run's end, after any
 *   children the run had to close.
 *
 * `skiff serve` requests are SERVER spans made the same way (request-span.ts); a run started
 * under one (its traceparent names it) reports its session, question and answer to it.
 *
 * Parents are always passed explicitly, never read from AsyncLocalStorage, so parallel tools stay
 * siblings whatever the runtime does with async context (several Bun ALS regressions are on
 * record, see otel-genai.md §6.5).
 */
import { type Attributes, SamplingDecision, type SpanContext, SpanKind, type SpanStatus, TraceFlags } from "@opentelemetry/api";
import type { IdGenerator } from "@opentelemetry/sdk-trace-base";
import type { ModelResponse } from "../model/model.ts";
import { errorTypeOf } from "./error-type.ts";
import { type EndedSpan, ExportedSpan } from "./exported-span.ts";
import {
  addAgentStart,
  agentStartAttributes,
  chatStartAttributes,
  markError,
  setAgentEnd,
  setChatBrokenOff,
  setChatEnd,
  setToolEnd,
  toolStartAttributes,
} from "./genai-attributes.ts";
import type { OtelTracerOptions } from "./otel-options.ts";
import { type OpenRequests, type RequestRecord, startRequest } from "./request-span.ts";
import { sampleRun } from "./sampler.ts";
import * as sc from "./semconv.ts";
import type { RecordedEvent } from "./span-limits.ts";
import { formatTraceparent, parseTraceparent } from "./traceparent.ts";
import type { ApprovalSpanInfo, ChatSpan, ChatSpanInfo, RunSpan, RunSpanInfo, RunSpanOutcome, ToolSpan, ToolSpanInfo, Tracer } from "./tracer.ts";

export type { OtelTracerOptions } from "./otel-options.ts";

/** Creates the Tracer that turns runs into GenAI spans, and `skiff serve` requests into SERVER spans. */
export function createOtelTracer(options: OtelTracerOptions): Tracer {
  // Requests in flight by span id: a run started under one (its traceparent names it) reports
  // its session, question and answer to it, which backends read from a trace's root span.
  const requests: OpenRequests = new Map();
  return {
    startRun: (info) => startRun(options, info, requests),
    startRequest: (info) => startRequest(options, info, requests),
  };
}

function startRun(options: OtelTracerOptions, info: RunSpanInfo, requests: OpenRequests): RunSpan {
  // Span times come from one monotonic clock anchored to the wall clock once per run: parallel
  // tools a fraction of a millisecond apart stay apart, and a long-lived process does not drift.
  const wall = Date.now();
  const mono = performance.now();
  const caller = info.traceparent === undefined ? undefined : parseTraceparent(info.traceparent);
  const traceId = ownTraceId(info.traceId) ?? caller?.traceId ?? options.ids.generateTraceId();
  const parent: SpanContext | undefined =
    caller === undefined ? undefined : { traceId, spanId: caller.spanId, traceFlags: caller.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE, isRemote: true };
  const attributes = agentStartAttributes(info);
  const sampling = sampleRun(options.sampler, traceId, parent, agentSpanName(info.agentName), attributes);
  if (sampling.decision === SamplingDecision.NOT_RECORD) return new UnrecordedRun(traceId, options.ids);
  if (sampling.attributes !== undefined) Object.assign(attributes, sampling.attributes);
  addAgentStart(attributes, info, options);
  const context: SpanContext = {
    traceId,
    spanId: options.ids.generateSpanId(),
    traceFlags: sampling.decision === SamplingDecision.RECORD_AND_SAMPLED ? TraceFlags.SAMPLED : TraceFlags.NONE,
    traceState: sampling.traceState,
  };
  const events = info.resumed === undefined ? undefined : [resumedEvent(info.resumed, wall)];
  const request = caller === undefined ? undefined : requests.get(caller.spanId);
  request?.runStarted(info);
  return new RecordedRun(options, info, { context, parent, attributes, events, wall, mono, request });
}

/** The agent span's event saying which attempt of a durable run this is, and where it runs. */
function resumedEvent(resumed: NonNullable<RunSpanInfo["resumed"]>, time: number): RecordedEvent {
  const attributes = { [sc.ATTR_SKIFF_RUN_ATTEMPT]: resumed.attempt, [sc.ATTR_SKIFF_REPLICA]: resumed.replica };
  return { name: sc.EVENT_SKIFF_RUN_RESUMED, attributes, time };
}

/** The trace id a run was given (lowercased), or undefined when absent or not a valid W3C trace id. */
function ownTraceId(traceId: string | undefined): string | undefined {
  if (traceId === undefined) return undefined;
  const id = traceId.toLowerCase();
  // A bad id must not fail the run: the run then starts a trace of its own.
  return /^[0-9a-f]{32}$/.test(id) && !/^0+$/.test(id) ? id : undefined;
}

function agentSpanName(agentName: string): string {
  return `invoke_agent ${agentName}`;
}

/** What a recorded run's agent span starts with. */
interface AgentStart {
  readonly context: SpanContext;
  /** The caller's span, when a traceparent came with the run. */
  readonly parent: SpanContext | undefined;
  readonly attributes: Attributes;
  readonly events: RecordedEvent[] | undefined;
  /** Date.now() and performance.now() at the start. */
  readonly wall: number;
  readonly mono: number;
  /** The request span of this process the run was started under, if any. */
  readonly request: RequestRecord | undefined;
}

/** A recorded run: the agent span's record, and the children still open. */
class RecordedRun implements RunSpan {
  readonly options: OtelTracerOptions;
  readonly agentName: string;
  readonly conversationId: string | undefined;
  /** The agent span's own context; also the parent of every child. */
  readonly context: SpanContext;
  private readonly parent: SpanContext | undefined;
  private readonly attributes: Attributes;
  private events: RecordedEvent[] | undefined;
  private readonly wall: number;
  private readonly mono: number;
  private readonly request: RequestRecord | undefined;
  /** Children the run closes itself if they are still open when it ends. */
  private open: ChildSpan[] | undefined;
  private ended = false;

  // The fields are copied rather than the AgentStart kept: one object less per in-flight run.
  constructor(options: OtelTracerOptions, info: RunSpanInfo, start: AgentStart) {
    this.options = options;
    this.agentName = info.agentName;
    this.conversationId = info.conversationId;
    this.context = start.context;
    this.parent = start.parent;
    this.attributes = start.attributes;
    this.events = start.events;
    this.wall = start.wall;
    this.mono = start.mono;
    this.request = start.request;
  }

  get traceId(): string {
    return this.context.traceId;
  }

  /** Epoch milliseconds with sub-millisecond precision, from the run's monotonic clock. */
  now(): number {
    return this.wall + (performance.now() - this.mono);
  }

  startChat(chat: ChatSpanInfo): ChatSpan {
    const startTime = this.now();
    return this.track(new ChatRecord(this, chatStartAttributes(chat, this.conversationId, this.options), startTime));
  }

  startTool(tool: ToolSpanInfo): ToolSpan {
    const startTime = this.now();
    const attributes = toolStartAttributes(tool, this.agentName, this.options);
    return this.track(new ToolRecord(this, attributes, startTime, this.options.ids.generateSpanId()));
  }

  approvalDecided(decision: ApprovalSpanInfo): void {
    if (this.ended) return;
    const attributes: Attributes = {
      [sc.ATTR_GEN_AI_TOOL_CALL_ID]: decision.callId,
      [sc.ATTR_GEN_AI_TOOL_NAME]: decision.toolName,
      [sc.ATTR_SKIFF_APPROVAL_APPROVED]: decision.approve,
      ...(decision.by === undefined ? {} : { [sc.ATTR_SKIFF_APPROVAL_BY]: decision.by }),
      ...(decision.waitMs === undefined ? {} : { [sc.ATTR_SKIFF_APPROVAL_WAIT_MS]: Math.round(decision.waitMs) }),
    };
    (this.events ??= []).push({ name: sc.EVENT_SKIFF_APPROVAL_DECIDED, attributes, time: this.now() });
  }

  end(outcome: RunSpanOutcome): void {
    if (this.ended) return;
    this.ended = true;
    // DESIGN §2: a run that ends (cancelled, timed out) closes every span it still has open.
    if (this.open !== undefined && this.open.length > 0) {
      const why = outcome.error ?? new Error("the run ended before this operation finished");
      for (const child of [...this.open]) child.abandon(why);
    }
    const attributes = this.attributes;
    setAgentEnd(attributes, outcome, this.options);
    this.request?.runEnded(outcome);
    const status = outcome.error === undefined ? undefined : markError(attributes, errorTypeOf(outcome.error), outcome.error);
    const { context, parent, events, wall } = this;
    this.hand({ name: agentSpanName(this.agentName), kind: SpanKind.INTERNAL, context, parent, attributes, events, status, startTime: wall, endTime: this.now() });
  }

  /** A child ended: it is no longer the run's to close, and its span goes out now. */
  childEnded(child: ChildSpan, span: EndedSpan): void {
    const index = this.open?.indexOf(child) ?? -1;
    if (index >= 0) this.open!.splice(index, 1);
    this.hand(span);
  }

  private hand(span: EndedSpan): void {
    const output = this.options.output;
    output.onEnd(new ExportedSpan(span, output));
  }

  private track<T extends ChildSpan>(child: T): T {
    // A child started after the run ended is not the run's to close.
    if (!this.ended) (this.open ??= []).push(child);
    return child;
  }
}

/**
 * An open chat or tool span of a recorded run. Thousands are open at once under load, so each
 * holds only what its span needs; the span name is read back from the attributes (model, tool)
 * rather than held twice.
 */
abstract class ChildSpan {
  protected readonly run: RecordedRun;
  protected readonly attributes: Attributes;
  protected readonly startTime: number;
  private status: SpanStatus | undefined;
  /** Set once the span is handed over; later calls are no-ops, as on an ended SDK span. */
  protected done = false;

  constructor(run: RecordedRun, attributes: Attributes, startTime: number) {
    this.run = run;
    this.attributes = attributes;
    this.startTime = startTime;
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
    const run = this.run;
    const parent = run.context;
    const context: SpanContext = { traceId: parent.traceId, spanId: this.spanId(), traceFlags: parent.traceFlags, traceState: parent.traceState };
    run.childEnded(this, {
      name: this.spanName(),
      kind: this.spanKind(),
      context,
      parent,
      attributes: this.attributes,
      events: this.recordedEvents(),
      status: this.status,
      startTime: this.startTime,
      endTime: run.now(),
    });
  }

  /** Events recorded while the span was open (chats only). */
  protected recordedEvents(): readonly RecordedEvent[] | undefined {
    return undefined;
  }

  protected abstract spanId(): string;
  protected abstract spanName(): string;
  protected abstract spanKind(): SpanKind;
}

class ChatRecord extends ChildSpan implements ChatSpan {
  private events: RecordedEvent[] | undefined;
  /** When the first chunk of a streamed answer arrived (epoch ms); undefined until then. */
  private firstChunkAt: number | undefined;

  end(response: ModelResponse): void {
    if (this.done) return;
    setChatEnd(this.attributes, response, this.secondsToFirstChunk(), this.run.options);
    this.finish();
  }

  fail(error: unknown): void {
    if (this.done) return;
    const seconds = this.secondsToFirstChunk();
    if (seconds !== undefined) setChatBrokenOff(this.attributes, seconds);
    this.failWith(errorTypeOf(error), error);
  }

  /** Closed by the run's end while still open: a stream it cut off is a generation that broke off too. */
  override abandon(error: unknown): void {
    this.fail(error);
  }

  firstChunk(): void {
    if (this.done || this.firstChunkAt !== undefined) return;
    this.firstChunkAt = this.run.now();
  }

  private secondsToFirstChunk(): number | undefined {
    return this.firstChunkAt === undefined ? undefined : (this.firstChunkAt - this.startTime) / 1000;
  }

  event(name: string, attributes?: Readonly<Record<string, string | number | boolean>>): void {
    if (this.done) return;
    // A copy, as the SDK's addEvent keeps one.
    (this.events ??= []).push({ name, attributes: attributes === undefined ? undefined : { ...attributes }, time: this.run.now() });
  }

  protected override recordedEvents(): readonly RecordedEvent[] | undefined {
    return this.events;
  }

  protected spanId(): string {
    return this.run.options.ids.generateSpanId();
  }

  protected spanName(): string {
    return `chat ${String(this.attributes[sc.ATTR_GEN_AI_REQUEST_MODEL])}`;
  }

  protected spanKind(): SpanKind {
    return SpanKind.CLIENT;
  }
}

class ToolRecord extends ChildSpan implements ToolSpan {
  /** Fixed at the start: the tool passes it on (traceparent) while it runs. */
  private readonly id: string;

  constructor(run: RecordedRun, attributes: Attributes, startTime: number, spanId: string) {
    super(run, attributes, startTime);
    this.id = spanId;
  }

  /** Names this span, for the tool to pass on. */
  get traceparent(): string {
    const { traceId, traceFlags } = this.run.context;
    return formatTraceparent({ traceId, spanId: this.id, sampled: (traceFlags & TraceFlags.SAMPLED) !== 0 });
  }

  end(result: string): void {
    if (this.done) return;
    setToolEnd(this.attributes, result, this.run.options);
    this.finish();
  }

  fail(error: unknown, errorType: string): void {
    this.failWith(errorType, error);
  }

  protected spanId(): string {
    return this.id;
  }

  protected spanName(): string {
    return `execute_tool ${String(this.attributes[sc.ATTR_GEN_AI_TOOL_NAME])}`;
  }

  protected spanKind(): SpanKind {
    return SpanKind.INTERNAL;
  }
}

/** A run the sampler dropped: ids for results and tools' traceparents, nothing recorded. */
class UnrecordedRun implements RunSpan {
  readonly traceId: string;
  private readonly ids: IdGenerator;

  constructor(traceId: string, ids: IdGenerator) {
    this.traceId = traceId;
    this.ids = ids;
  }

  startChat(): ChatSpan {
    return unrecordedChat;
  }

  startTool(): ToolSpan {
    // Its own span id, as the SDK gives a non-recording span, and the sampled flag off.
    return new UnrecordedTool(formatTraceparent({ traceId: this.traceId, spanId: this.ids.generateSpanId(), sampled: false }));
  }

  approvalDecided(): void {}

  end(): void {}
}

const unrecordedChat: ChatSpan = { end() {}, fail() {}, event() {}, firstChunk() {} };

class UnrecordedTool implements ToolSpan {
  readonly traceparent: string;

  constructor(traceparent: string) {
    this.traceparent = traceparent;
  }

  end(): void {}
  fail(): void {}
}
