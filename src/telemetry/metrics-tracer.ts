/**
 * A Tracer that feeds GenAiMetrics from the same port calls the spans come from, so metrics work
 * with or without OpenTelemetry export (combine it with the others via combineTracers).
 *
 * Classes rather than closures: a service holds one of these per in-flight run and per open tool
 * call, 10,000 runs at a time in the benchmarks, and a class instance is a fraction of the size of
 * the closures and their captured scopes.
 */
import type { ModelResponse } from "../model/model.ts";
import { errorTypeOf } from "./error-type.ts";
import type { GenAiMetrics, MetricAttributes } from "./metrics.ts";
import * as sc from "./semconv.ts";
import type { ChatSpan, ChatSpanInfo, RunSpan, RunSpanInfo, RunSpanOutcome, ToolSpan, ToolSpanInfo, Tracer } from "./tracer.ts";

/** What the metrics tracer needs. */
export interface MetricsTracerOptions {
  readonly metrics: GenAiMetrics;
  /** Milliseconds clock; injectable for tests. */
  readonly now?: () => number;
}

/** Records durations of runs, model requests and tool calls, and token usage per model request. */
export function createMetricsTracer(options: MetricsTracerOptions): Tracer {
  const sink: Sink = { metrics: options.metrics, now: options.now ?? performance.now.bind(performance) };
  return { startRun: (info) => new MetricsRun(sink, info) };
}

interface Sink {
  readonly metrics: GenAiMetrics;
  readonly now: () => number;
}

class MetricsRun implements RunSpan {
  readonly traceId = undefined;
  private readonly start: number;

  constructor(
    private readonly sink: Sink,
    private readonly info: RunSpanInfo,
  ) {
    this.start = sink.now();
  }

  startChat(chat: ChatSpanInfo): ChatSpan {
    return new MetricsChat(this.sink, chat);
  }

  startTool(tool: ToolSpanInfo): ToolSpan {
    return new MetricsTool(this.sink, tool, this.info.agentName);
  }

  approvalDecided(): void {
    // Decisions are counted in the run's events and logs, not as metrics.
  }

  end(outcome: RunSpanOutcome): void {
    this.sink.metrics.record(sc.METRIC_GEN_AI_INVOKE_AGENT_DURATION, (this.sink.now() - this.start) / 1000, {
      [sc.ATTR_GEN_AI_AGENT_NAME]: this.info.agentName,
      [sc.ATTR_GEN_AI_REQUEST_MODEL]: this.info.requestModel,
      [sc.ATTR_ERROR_TYPE]: outcome.error === undefined ? undefined : errorTypeOf(outcome.error),
    });
  }
}

class MetricsChat implements ChatSpan {
  private readonly start: number;
  private done = false;

  constructor(
    private readonly sink: Sink,
    private readonly chat: ChatSpanInfo,
  ) {
    this.start = sink.now();
  }

  /** The attributes every measurement of this request carries (built when it ends, not held). */
  private base(): MetricAttributes {
    return {
      [sc.ATTR_GEN_AI_OPERATION_NAME]: sc.GEN_AI_OPERATION_CHAT,
      [sc.ATTR_GEN_AI_PROVIDER_NAME]: this.chat.provider,
      [sc.ATTR_GEN_AI_REQUEST_MODEL]: this.chat.model,
      [sc.ATTR_SERVER_ADDRESS]: this.chat.serverAddress,
      [sc.ATTR_SERVER_PORT]: this.chat.serverPort,
    };
  }

  end(response: ModelResponse): void {
    if (this.done) return;
    this.done = true;
    const { metrics, now } = this.sink;
    const attributes = { ...this.base(), [sc.ATTR_GEN_AI_RESPONSE_MODEL]: response.model };
    metrics.record(sc.METRIC_GEN_AI_CLIENT_OPERATION_DURATION, (now() - this.start) / 1000, attributes);
    // Billable counts as reported; the conventions say not to record unknown counts.
    metrics.record(sc.METRIC_GEN_AI_CLIENT_TOKEN_USAGE, response.usage.inputTokens, { ...attributes, [sc.ATTR_GEN_AI_TOKEN_TYPE]: "input" });
    metrics.record(sc.METRIC_GEN_AI_CLIENT_TOKEN_USAGE, response.usage.outputTokens, { ...attributes, [sc.ATTR_GEN_AI_TOKEN_TYPE]: "output" });
  }

  fail(error: unknown): void {
    if (this.done) return;
    this.done = true;
    this.sink.metrics.record(sc.METRIC_GEN_AI_CLIENT_OPERATION_DURATION, (this.sink.now() - this.start) / 1000, {
      ...this.base(),
      [sc.ATTR_ERROR_TYPE]: errorTypeOf(error),
    });
  }

  event(): void {}
}

class MetricsTool implements ToolSpan {
  readonly traceparent = undefined;
  private readonly start: number;
  private done = false;

  constructor(
    private readonly sink: Sink,
    private readonly tool: ToolSpanInfo,
    private readonly agentName: string,
  ) {
    this.start = sink.now();
  }

  private record(errorType: string | undefined): void {
    if (this.done) return;
    this.done = true;
    this.sink.metrics.record(sc.METRIC_GEN_AI_EXECUTE_TOOL_DURATION, (this.sink.now() - this.start) / 1000, {
      [sc.ATTR_GEN_AI_TOOL_NAME]: this.tool.name,
      [sc.ATTR_GEN_AI_TOOL_TYPE]: this.tool.type,
      [sc.ATTR_GEN_AI_AGENT_NAME]: this.agentName,
      ...(errorType === undefined ? {} : { [sc.ATTR_ERROR_TYPE]: errorType }),
    });
  }

  end(): void {
    this.record(undefined);
  }

  fail(_error: unknown, errorType: string): void {
    this.record(errorType);
  }
}
