/**
 * The OpenTelemetry adapter of the Tracer port: each run becomes an `invoke_agent` span with its
 * `chat` and `execute_tool` spans as children, carrying the GenAI semantic conventions' attributes
 * (names in semconv.ts). It speaks only @opentelemetry/api; the SDK, exporter and processors are
 * set up in otel-setup.ts.
 *
 * Parents are always passed explicitly (the agent span's context, captured once per run), never
 * read from AsyncLocalStorage, so parallel tools stay siblings whatever the runtime does with
 * async context (several Bun ALS regressions are on record, see otel-genai.md §6.5).
 */
import {
  type Attributes,
  type AttributeValue,
  type Context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer as ApiTracer,
  trace,
  TraceFlags,
} from "@opentelemetry/api";
import type { Usage } from "../model/messages.ts";
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
import { formatTraceparent, parseTraceparent } from "./traceparent.ts";
import type { ChatSpan, RunSpan, RunSpanInfo, ToolSpan, Tracer } from "./tracer.ts";

/** What the OTel Tracer adapter needs. */
export interface OtelTracerOptions {
  /** An API tracer from a provider set up by otel-setup.ts (or a test's own). */
  readonly tracer: ApiTracer;
  /** Record prompts, answers, tool arguments and results as span attributes (opt-in). */
  readonly captureContent: boolean;
}

/** A child span the run closes itself if it is still open when the run ends. */
interface OpenChild {
  abandon(error: unknown): void;
}

/** Creates the Tracer that turns runs into GenAI spans on `options.tracer`. */
export function createOtelTracer(options: OtelTracerOptions): Tracer {
  return { startRun: (info) => startRun(options, info) };
}

function startRun({ tracer, captureContent }: OtelTracerOptions, info: RunSpanInfo): RunSpan {
  const attributes: Attributes = {
    [sc.ATTR_GEN_AI_OPERATION_NAME]: sc.GEN_AI_OPERATION_INVOKE_AGENT,
    [sc.ATTR_GEN_AI_AGENT_NAME]: info.agentName,
    [sc.ATTR_GEN_AI_REQUEST_MODEL]: info.requestModel,
  };
  if (info.conversationId !== undefined) attributes[sc.ATTR_GEN_AI_CONVERSATION_ID] = info.conversationId;
  // The SDK stamps span starts with Date.now() (whole milliseconds); parallel tools a fraction of a
  // millisecond apart would blur. So times come from one monotonic clock anchored to the wall
  // clock once per run: exact within the run, no drift across a long-lived process.
  const wall = Date.now();
  const mono = performance.now();
  const at = () => wall + (performance.now() - mono);
  const span = tracer.startSpan(
    `invoke_agent ${info.agentName}`,
    { kind: SpanKind.INTERNAL, attributes, startTime: wall },
    callerContext(info.traceparent),
  );
  if (captureContent && span.isRecording()) {
    const { system, rest } = splitSystem(info.input);
    setJson(span, sc.ATTR_GEN_AI_SYSTEM_INSTRUCTIONS, systemInstructionsJson(system));
    span.setAttribute(sc.ATTR_GEN_AI_INPUT_MESSAGES, inputMessagesJson(rest));
    setJson(span, sc.ATTR_GEN_AI_TOOL_DEFINITIONS, toolDefinitionsJson(info.tools));
  }
  // Captured once: every chat and tool span of the run gets this as its explicit parent.
  const runContext = trace.setSpan(ROOT_CONTEXT, span);
  const open = new Set<OpenChild>();
  let ended = false;

  const child = (name: string, kind: SpanKind, childAttributes: Attributes): { span: Span; finish: () => boolean } => {
    const childSpan = tracer.startSpan(name, { kind, attributes: childAttributes, startTime: at() }, runContext);
    let done = false;
    const handle: OpenChild = {
      abandon(error) {
        markError(childSpan, errorTypeOf(error), error);
        finish();
      },
    };
    // Returns false when the span was already ended (e.g. closed by the run's end), so late calls are no-ops.
    const finish = () => {
      if (done) return false;
      done = true;
      open.delete(handle);
      childSpan.end(at());
      return true;
    };
    if (!ended) open.add(handle);
    return { span: childSpan, finish };
  };

  return {
    traceId: span.spanContext().traceId,

    startChat(chat): ChatSpan {
      const chatAttributes: Attributes = {
        [sc.ATTR_GEN_AI_OPERATION_NAME]: sc.GEN_AI_OPERATION_CHAT,
        [sc.ATTR_GEN_AI_PROVIDER_NAME]: chat.provider,
        [sc.ATTR_GEN_AI_REQUEST_MODEL]: chat.model,
      };
      if (chat.serverAddress !== undefined) chatAttributes[sc.ATTR_SERVER_ADDRESS] = chat.serverAddress;
      if (chat.serverPort !== undefined) chatAttributes[sc.ATTR_SERVER_PORT] = chat.serverPort;
      // Conditionally required "if and only if the request streams": never set to false.
      if (chat.stream) chatAttributes[sc.ATTR_GEN_AI_REQUEST_STREAM] = true;
      if (info.conversationId !== undefined) chatAttributes[sc.ATTR_GEN_AI_CONVERSATION_ID] = info.conversationId;
      const { span: chatSpan, finish } = child(`chat ${chat.model}`, SpanKind.CLIENT, chatAttributes);
      if (captureContent && chatSpan.isRecording()) {
        const { system, rest } = splitSystem(chat.messages);
        setJson(chatSpan, sc.ATTR_GEN_AI_SYSTEM_INSTRUCTIONS, systemInstructionsJson(system));
        chatSpan.setAttribute(sc.ATTR_GEN_AI_INPUT_MESSAGES, inputMessagesJson(rest));
        setJson(chatSpan, sc.ATTR_GEN_AI_TOOL_DEFINITIONS, toolDefinitionsJson(chat.tools));
      }
      return {
        end(response) {
          if (!chatSpan.isRecording()) return void finish();
          if (response.id !== undefined) chatSpan.setAttribute(sc.ATTR_GEN_AI_RESPONSE_ID, response.id);
          chatSpan.setAttribute(sc.ATTR_GEN_AI_RESPONSE_MODEL, response.model);
          chatSpan.setAttribute(sc.ATTR_GEN_AI_RESPONSE_FINISH_REASONS, [response.finishReason]);
          setUsage(chatSpan, response.usage);
          if (captureContent) {
            chatSpan.setAttribute(sc.ATTR_GEN_AI_OUTPUT_MESSAGES, outputMessagesJson(response.message, response.finishReason));
          }
          finish();
        },
        fail(error) {
          markError(chatSpan, errorTypeOf(error), error);
          finish();
        },
        event(name, eventAttributes) {
          chatSpan.addEvent(name, eventAttributes, at());
        },
      };
    },

    startTool(tool): ToolSpan {
      const toolAttributes: Attributes = {
        [sc.ATTR_GEN_AI_OPERATION_NAME]: sc.GEN_AI_OPERATION_EXECUTE_TOOL,
        [sc.ATTR_GEN_AI_TOOL_NAME]: tool.name,
        [sc.ATTR_GEN_AI_TOOL_CALL_ID]: tool.callId,
        [sc.ATTR_GEN_AI_TOOL_TYPE]: tool.type,
        [sc.ATTR_GEN_AI_AGENT_NAME]: info.agentName,
      };
      if (tool.description !== "") toolAttributes[sc.ATTR_GEN_AI_TOOL_DESCRIPTION] = tool.description;
      const { span: toolSpan, finish } = child(`execute_tool ${tool.name}`, SpanKind.INTERNAL, toolAttributes);
      if (captureContent && toolSpan.isRecording()) {
        toolSpan.setAttribute(sc.ATTR_GEN_AI_TOOL_CALL_ARGUMENTS, toolArgumentsJson(tool.arguments));
      }
      const context = toolSpan.spanContext();
      return {
        traceparent: trace.isSpanContextValid(context)
          ? formatTraceparent({
              traceId: context.traceId,
              spanId: context.spanId,
              sampled: (context.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED,
            })
          : undefined,
        end(result) {
          // The result is recorded only for calls that succeeded, as the conventions say.
          if (captureContent && toolSpan.isRecording()) toolSpan.setAttribute(sc.ATTR_GEN_AI_TOOL_CALL_RESULT, toolResultJson(result));
          finish();
        },
        fail(error, errorType) {
          markError(toolSpan, errorType, error);
          finish();
        },
      };
    },

    end(outcome) {
      if (ended) return;
      ended = true;
      // DESIGN §2: a run that ends (cancelled, timed out) closes every span it still has open.
      const why = outcome.error ?? new Error("the run ended before this operation finished");
      for (const openChild of [...open]) openChild.abandon(why);
      if (span.isRecording()) {
        setUsage(span, outcome.usage);
        span.setAttribute(sc.ATTR_GEN_AI_RESPONSE_FINISH_REASONS, [outcome.finishReason]);
        if (captureContent && outcome.error === undefined && outcome.output !== undefined && outcome.output !== "") {
          span.setAttribute(sc.ATTR_GEN_AI_OUTPUT_MESSAGES, answerMessagesJson(outcome.output, outcome.finishReason));
        }
        if (outcome.error !== undefined) markError(span, errorTypeOf(outcome.error), outcome.error);
      }
      span.end(at());
    },
  };
}

/** The caller's trace when a valid traceparent came with the run, else a new root. */
function callerContext(traceparent: string | undefined): Context {
  const parent = traceparent === undefined ? undefined : parseTraceparent(traceparent);
  if (!parent) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: parent.traceId,
    spanId: parent.spanId,
    traceFlags: parent.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  });
}

/** Token counts; cache and reasoning only when the provider reported some. */
function setUsage(span: Span, usage: Usage): void {
  span.setAttribute(sc.ATTR_GEN_AI_USAGE_INPUT_TOKENS, usage.inputTokens);
  span.setAttribute(sc.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS, usage.outputTokens);
  if (usage.cachedInputTokens > 0) span.setAttribute(sc.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, usage.cachedInputTokens);
  if (usage.reasoningTokens > 0) span.setAttribute(sc.ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, usage.reasoningTokens);
}

/** Status ERROR with the message as description, and `error.type` (success leaves the status UNSET). */
function markError(span: Span, errorType: string, error: unknown): void {
  span.setAttribute(sc.ATTR_ERROR_TYPE, errorType);
  span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessageOf(error) });
}

function setJson(span: Span, key: string, value: AttributeValue | undefined): void {
  if (value !== undefined) span.setAttribute(key, value);
}
