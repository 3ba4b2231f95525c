/**
 * The SERVER span of a `skiff serve` request that runs the agent (POST /v1/runs,
 * /v1/chat/completions), after the stable HTTP semantic conventions: `{method} {route}`, a child
 * of the caller's traceparent, and the parent of the run's `invoke_agent` span (the server starts
 * the run with this span's traceparent). Like every span of skiff's, it is a small record until
 * the request ends, then handed to the processors as a ReadableSpan (exported-span.ts).
 *
 * Backends take a trace's name, input, output and session from its root span, which this span
 * is: so the run started under it reports its `session.id` here and, with content capture, the
 * user's text and the answer as `input.value`/`output.value` (what Langfuse and Phoenix read on
 * a root span that carries no GenAI messages).
 */
import { type Attributes, SamplingDecision, type SpanContext, SpanKind, type SpanStatus, SpanStatusCode, TraceFlags } from "@opentelemetry/api";
import { lastUserText } from "./content.ts";
import { ExportedSpan } from "./exported-span.ts";
import type { OtelTracerOptions } from "./otel-options.ts";
import { setInputText, setOutputText } from "./openinference.ts";
import { sampleRun } from "./sampler.ts";
import * as sc from "./semconv.ts";
import { formatTraceparent, parseTraceparent } from "./traceparent.ts";
import type { RequestSpan, RequestSpanInfo, RunSpanInfo, RunSpanOutcome } from "./tracer.ts";

/** The requests of one tracer still in flight, by span id. */
export type OpenRequests = Map<string, RequestRecord>;

/** Opens a request's span: recorded when the sampler keeps it, else only ids for the run to follow. */
export function startRequest(options: OtelTracerOptions, info: RequestSpanInfo, requests: OpenRequests): RequestSpan {
  const wall = Date.now();
  const mono = performance.now();
  const caller = info.traceparent === undefined ? undefined : parseTraceparent(info.traceparent);
  const traceId = caller?.traceId ?? options.ids.generateTraceId();
  const parent: SpanContext | undefined =
    caller === undefined ? undefined : { traceId, spanId: caller.spanId, traceFlags: caller.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE, isRemote: true };
  const name = `${info.method} ${info.route}`;
  const attributes = requestStartAttributes(info);
  const sampling = sampleRun(options.sampler, traceId, parent, name, attributes, SpanKind.SERVER);
  const spanId = options.ids.generateSpanId();
  // Not recorded: the run still gets a traceparent, unsampled, so parent-based samplers drop it too.
  if (sampling.decision === SamplingDecision.NOT_RECORD) return { traceparent: formatTraceparent({ traceId, spanId, sampled: false }), end() {} };
  if (sampling.attributes !== undefined) Object.assign(attributes, sampling.attributes);
  // Phoenix's kind for an application's entry point; without it the span shows as "unknown".
  if (options.openInference) attributes[sc.ATTR_OPENINFERENCE_SPAN_KIND] = "CHAIN";
  const context: SpanContext = {
    traceId,
    spanId,
    traceFlags: sampling.decision === SamplingDecision.RECORD_AND_SAMPLED ? TraceFlags.SAMPLED : TraceFlags.NONE,
    traceState: sampling.traceState,
  };
  const record = new RequestRecord(options, requests, context, parent, attributes, wall, mono);
  requests.set(spanId, record);
  return record;
}

/**
 * The attributes a request span starts with (the sampler sees them): method, path, scheme, the
 * server as the client addressed it, the user agent, and the route pattern.
 */
export function requestStartAttributes(info: RequestSpanInfo): Attributes {
  const attributes: Attributes = {
    [sc.ATTR_HTTP_REQUEST_METHOD]: info.method,
    [sc.ATTR_URL_PATH]: info.path,
  };
  if (info.scheme !== undefined) attributes[sc.ATTR_URL_SCHEME] = info.scheme;
  if (info.serverAddress !== undefined) attributes[sc.ATTR_SERVER_ADDRESS] = info.serverAddress;
  if (info.serverPort !== undefined) attributes[sc.ATTR_SERVER_PORT] = info.serverPort;
  if (info.userAgent !== undefined) attributes[sc.ATTR_USER_AGENT_ORIGINAL] = info.userAgent;
  attributes[sc.ATTR_HTTP_ROUTE] = info.route;
  return attributes;
}

/** A recorded request in flight. */
export class RequestRecord implements RequestSpan {
  private ended = false;

  constructor(
    private readonly options: OtelTracerOptions,
    private readonly requests: OpenRequests,
    private readonly context: SpanContext,
    private readonly parent: SpanContext | undefined,
    private readonly attributes: Attributes,
    private readonly wall: number,
    private readonly mono: number,
  ) {}

  /** Names this span, for the run to be started under. */
  get traceparent(): string {
    const { traceId, spanId, traceFlags } = this.context;
    return formatTraceparent({ traceId, spanId, sampled: (traceFlags & TraceFlags.SAMPLED) !== 0 });
  }

  /** A run started under this request: its session, and (content capture) the user's text. */
  runStarted(info: RunSpanInfo): void {
    if (this.ended) return;
    if (info.conversationId !== undefined) this.attributes[sc.ATTR_SESSION_ID] = info.conversationId;
    const question = this.options.captureContent ? lastUserText(info.input) : undefined;
    if (question !== undefined) setInputText(this.attributes, question, this.options.maxContentBytes);
  }

  /** The run ended: (content capture) its answer. */
  runEnded(outcome: RunSpanOutcome): void {
    if (this.ended || !this.options.captureContent || outcome.error !== undefined || !outcome.output) return;
    setOutputText(this.attributes, outcome.output, this.options.maxContentBytes);
  }

  end(statusCode: number): void {
    if (this.ended) return;
    this.ended = true;
    this.requests.delete(this.context.spanId);
    const attributes = this.attributes;
    attributes[sc.ATTR_HTTP_RESPONSE_STATUS_CODE] = statusCode;
    let status: SpanStatus | undefined;
    // A server span is an error for 5xx only: a 4xx is the client's mistake, answered correctly.
    if (statusCode >= 500) {
      attributes[sc.ATTR_ERROR_TYPE] = String(statusCode);
      status = { code: SpanStatusCode.ERROR };
    }
    const output = this.options.output;
    const endTime = this.wall + (performance.now() - this.mono);
    // The name is rebuilt from the attributes rather than held: one string less per request in flight.
    const name = `${String(attributes[sc.ATTR_HTTP_REQUEST_METHOD])} ${String(attributes[sc.ATTR_HTTP_ROUTE])}`;
    const span = { name, kind: SpanKind.SERVER, context: this.context, parent: this.parent, attributes, events: undefined, status, startTime: this.wall, endTime };
    output.onEnd(new ExportedSpan(span, output));
  }
}
