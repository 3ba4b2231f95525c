/**
 * A Tracer that feeds GenAiMetrics from the same port calls the spans come from, so metrics work
 * with or without OpenTelemetry export (combine it with the others via combineTracers).
 */
import { errorTypeOf } from "./error-type.ts";
import type { GenAiMetrics, MetricAttributes } from "./metrics.ts";
import * as sc from "./semconv.ts";
import type { ChatSpan, RunSpan, ToolSpan, Tracer } from "./tracer.ts";

/** What the metrics tracer needs. */
export interface MetricsTracerOptions {
  readonly metrics: GenAiMetrics;
  /** Milliseconds clock; injectable for tests. */
  readonly now?: () => number;
}

/** Records durations of runs, model requests and tool calls, and token usage per model request. */
export function createMetricsTracer(options: MetricsTracerOptions): Tracer {
  const { metrics } = options;
  const now = options.now ?? performance.now.bind(performance);
  const seconds = (start: number) => (now() - start) / 1000;
  return {
    startRun(info): RunSpan {
      const runStart = now();
      return {
        traceId: undefined,
        startChat(chat): ChatSpan {
          const start = now();
          const base: MetricAttributes = {
            [sc.ATTR_GEN_AI_OPERATION_NAME]: sc.GEN_AI_OPERATION_CHAT,
            [sc.ATTR_GEN_AI_PROVIDER_NAME]: chat.provider,
            [sc.ATTR_GEN_AI_REQUEST_MODEL]: chat.model,
            [sc.ATTR_SERVER_ADDRESS]: chat.serverAddress,
            [sc.ATTR_SERVER_PORT]: chat.serverPort,
          };
          let done = false;
          return {
            end(response) {
              if (done) return;
              done = true;
              const attributes = { ...base, [sc.ATTR_GEN_AI_RESPONSE_MODEL]: response.model };
              metrics.record(sc.METRIC_GEN_AI_CLIENT_OPERATION_DURATION, seconds(start), attributes);
              // Billable counts as reported; the conventions say not to record unknown counts.
              metrics.record(sc.METRIC_GEN_AI_CLIENT_TOKEN_USAGE, response.usage.inputTokens, { ...attributes, [sc.ATTR_GEN_AI_TOKEN_TYPE]: "input" });
              metrics.record(sc.METRIC_GEN_AI_CLIENT_TOKEN_USAGE, response.usage.outputTokens, { ...attributes, [sc.ATTR_GEN_AI_TOKEN_TYPE]: "output" });
            },
            fail(error) {
              if (done) return;
              done = true;
              metrics.record(sc.METRIC_GEN_AI_CLIENT_OPERATION_DURATION, seconds(start), { ...base, [sc.ATTR_ERROR_TYPE]: errorTypeOf(error) });
            },
            event() {},
          };
        },
        startTool(tool): ToolSpan {
          const start = now();
          const attributes: MetricAttributes = {
            [sc.ATTR_GEN_AI_TOOL_NAME]: tool.name,
            [sc.ATTR_GEN_AI_TOOL_TYPE]: tool.type,
            [sc.ATTR_GEN_AI_AGENT_NAME]: info.agentName,
          };
          let done = false;
          return {
            traceparent: undefined,
            end() {
              if (done) return;
              done = true;
              metrics.record(sc.METRIC_GEN_AI_EXECUTE_TOOL_DURATION, seconds(start), attributes);
            },
            fail(_error, errorType) {
              if (done) return;
              done = true;
              metrics.record(sc.METRIC_GEN_AI_EXECUTE_TOOL_DURATION, seconds(start), { ...attributes, [sc.ATTR_ERROR_TYPE]: errorType });
            },
          };
        },
        end(outcome) {
          metrics.record(sc.METRIC_GEN_AI_INVOKE_AGENT_DURATION, seconds(runStart), {
            [sc.ATTR_GEN_AI_AGENT_NAME]: info.agentName,
            [sc.ATTR_GEN_AI_REQUEST_MODEL]: info.requestModel,
            [sc.ATTR_ERROR_TYPE]: outcome.error === undefined ? undefined : errorTypeOf(outcome.error),
          });
        },
      };
    },
  };
}
