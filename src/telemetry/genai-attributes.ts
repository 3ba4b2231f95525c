/**
 * The GenAI semantic conventions' attributes of skiff's three spans (`invoke_agent`, `chat`,
 * `execute_tool`), at their start and at their end: which keys, in which order, under which
 * conditions. Names come from semconv.ts, message content from content.ts, the OpenInference
 * additions from openinference.ts. The order in which keys are set is the order in which they
 * are exported.
 */
import { type Attributes, type SpanStatus, SpanStatusCode } from "@opentelemetry/api";
import type { Message, Usage } from "../model/messages.ts";
import type { ModelResponse, ToolSpec } from "../model/model.ts";
import { setContent, setText } from "./attribute-fit.ts";
import {
  answerMessages,
  inputMessages,
  lastUserText,
  outputMessages,
  splitInstructions,
  systemInstructions,
  toolArguments,
  toolDefinitions,
  toolResult,
} from "./content.ts";
import { errorMessageOf } from "./error-type.ts";
import { setInputJson, setInputText, setOutputJson, setOutputText } from "./openinference.ts";
import * as sc from "./semconv.ts";
import type { ChatSpanInfo, RunSpanInfo, RunSpanOutcome, ToolSpanInfo } from "./tracer.ts";

/** What decides the optional attributes: content capture, the OpenInference set, the size limit. */
export interface AttributeOptions {
  /** Record prompts, answers, tool arguments and results (opt-in). */
  readonly captureContent: boolean;
  /** Add the OpenInference attributes Phoenix reads (`[otel] openinference`). */
  readonly openInference: boolean;
  /** Longest content attribute in UTF-8 bytes, cut so it stays valid JSON; 0: no limit. */
  readonly maxContentBytes: number;
  /** The configured system prompt: only it is `gen_ai.system_instructions` (undefined: none). */
  readonly systemPrompt: string | undefined;
}

/** The agent span's attributes when the run starts, as the sampler sees them; the rest comes with addAgentStart. */
export function agentStartAttributes(info: RunSpanInfo): Attributes {
  const attributes: Attributes = {
    [sc.ATTR_GEN_AI_OPERATION_NAME]: sc.GEN_AI_OPERATION_INVOKE_AGENT,
    [sc.ATTR_GEN_AI_AGENT_NAME]: info.agentName,
    [sc.ATTR_GEN_AI_REQUEST_MODEL]: info.requestModel,
  };
  if (info.conversationId !== undefined) attributes[sc.ATTR_GEN_AI_CONVERSATION_ID] = info.conversationId;
  if (info.keyName !== undefined) attributes[sc.ATTR_SKIFF_KEY_NAME] = info.keyName;
  return attributes;
}

/** Adds what a sampled run's agent span carries beyond that: its content, and the OpenInference session and input. */
export function addAgentStart(attributes: Attributes, info: RunSpanInfo, options: AttributeOptions): void {
  if (options.captureContent) addRequestContent(attributes, info.input, info.tools, options);
  if (!options.openInference) return;
  if (info.conversationId !== undefined) attributes[sc.ATTR_SESSION_ID] = info.conversationId;
  const question = options.captureContent ? lastUserText(info.input) : undefined;
  if (question !== undefined) setInputText(attributes, question, options.maxContentBytes);
}

/** Adds what the run's end tells: usage, cost, finish reason, the answer, and `error.type`. */
export function setAgentEnd(attributes: Attributes, outcome: RunSpanOutcome, options: AttributeOptions): void {
  setUsage(attributes, outcome.usage);
  if (outcome.costUsd !== undefined) attributes[sc.ATTR_GEN_AI_USAGE_COST] = outcome.costUsd;
  attributes[sc.ATTR_GEN_AI_RESPONSE_FINISH_REASONS] = [outcome.finishReason];
  const answer = options.captureContent && outcome.error === undefined && outcome.output !== undefined && outcome.output !== "" ? outcome.output : undefined;
  if (answer === undefined) return;
  const finishReason = options.openInference ? outcome.finishReason : undefined;
  setContent(attributes, sc.ATTR_GEN_AI_OUTPUT_MESSAGES, answerMessages(answer, finishReason), options.maxContentBytes);
  if (options.openInference) setOutputText(attributes, answer, options.maxContentBytes);
}

/** A chat span's attributes when the request starts (content only when capture is on). */
export function chatStartAttributes(chat: ChatSpanInfo, conversationId: string | undefined, options: AttributeOptions): Attributes {
  const attributes: Attributes = {
    [sc.ATTR_GEN_AI_OPERATION_NAME]: sc.GEN_AI_OPERATION_CHAT,
    [sc.ATTR_GEN_AI_PROVIDER_NAME]: chat.provider,
    [sc.ATTR_GEN_AI_REQUEST_MODEL]: chat.model,
  };
  if (chat.serverAddress !== undefined) attributes[sc.ATTR_SERVER_ADDRESS] = chat.serverAddress;
  if (chat.serverPort !== undefined) attributes[sc.ATTR_SERVER_PORT] = chat.serverPort;
  // Conditionally required "if and only if the request streams": never set to false.
  if (chat.stream) attributes[sc.ATTR_GEN_AI_REQUEST_STREAM] = true;
  if (chat.outputType !== undefined) attributes[sc.ATTR_GEN_AI_OUTPUT_TYPE] = chat.outputType;
  if (conversationId !== undefined) attributes[sc.ATTR_GEN_AI_CONVERSATION_ID] = conversationId;
  if (options.captureContent) addRequestContent(attributes, chat.messages, chat.tools, options);
  return attributes;
}

/**
 * Adds the model's answer: response id and model, finish reason, time to the first chunk of a
 * stream (seconds, or undefined), usage, and its message.
 */
export function setChatEnd(attributes: Attributes, response: ModelResponse, firstChunkSeconds: number | undefined, options: AttributeOptions): void {
  if (response.id !== undefined) attributes[sc.ATTR_GEN_AI_RESPONSE_ID] = response.id;
  attributes[sc.ATTR_GEN_AI_RESPONSE_MODEL] = response.model;
  attributes[sc.ATTR_GEN_AI_RESPONSE_FINISH_REASONS] = [response.finishReason];
  if (firstChunkSeconds !== undefined) attributes[sc.ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = firstChunkSeconds;
  setUsage(attributes, response.usage);
  if (options.captureContent) {
    const finishReason = options.openInference ? response.finishReason : undefined;
    setContent(attributes, sc.ATTR_GEN_AI_OUTPUT_MESSAGES, outputMessages(response.message, finishReason), options.maxContentBytes);
  }
}

/**
 * A chat that failed after its answer had begun to arrive (a stream cut off, an error event
 * mid-stream): the generation started and ended in error, so its finish reason is `error`.
 */
export function setChatBrokenOff(attributes: Attributes, firstChunkSeconds: number): void {
  attributes[sc.ATTR_GEN_AI_RESPONSE_FINISH_REASONS] = [sc.FINISH_REASON_ERROR];
  attributes[sc.ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = firstChunkSeconds;
}

/** A tool span's attributes when the call starts. */
export function toolStartAttributes(tool: ToolSpanInfo, agentName: string, options: AttributeOptions): Attributes {
  const attributes: Attributes = {
    [sc.ATTR_GEN_AI_OPERATION_NAME]: sc.GEN_AI_OPERATION_EXECUTE_TOOL,
    [sc.ATTR_GEN_AI_TOOL_NAME]: tool.name,
    [sc.ATTR_GEN_AI_TOOL_CALL_ID]: tool.callId,
    [sc.ATTR_GEN_AI_TOOL_TYPE]: tool.type,
    [sc.ATTR_GEN_AI_AGENT_NAME]: agentName,
  };
  // Descriptions of MCP tools can run to kilobytes: held to the same limit, as plain text.
  if (tool.description !== "") setText(attributes, sc.ATTR_GEN_AI_TOOL_DESCRIPTION, tool.description, options.maxContentBytes);
  if (!options.captureContent) return attributes;
  const parsed = toolArguments(tool.arguments);
  const json = setContent(attributes, sc.ATTR_GEN_AI_TOOL_CALL_ARGUMENTS, parsed, options.maxContentBytes);
  if (options.openInference) {
    // Arguments that are not JSON go to Phoenix as the text the model wrote.
    if (typeof parsed === "string") setInputText(attributes, tool.arguments, options.maxContentBytes);
    else setInputJson(attributes, json);
  }
  return attributes;
}

/** Adds a successful call's result (only then, as the conventions say). */
export function setToolEnd(attributes: Attributes, result: string, options: AttributeOptions): void {
  if (!options.captureContent) return;
  const parsed = toolResult(result);
  const json = setContent(attributes, sc.ATTR_GEN_AI_TOOL_CALL_RESULT, parsed, options.maxContentBytes);
  if (!options.openInference) return;
  if (typeof parsed === "string") setOutputText(attributes, result, options.maxContentBytes);
  else setOutputJson(attributes, json);
}

/** Sets `error.type` and returns status ERROR with the message as description (success leaves the status UNSET). */
export function markError(attributes: Attributes, errorType: string, error: unknown): SpanStatus {
  attributes[sc.ATTR_ERROR_TYPE] = errorType;
  return { code: SpanStatusCode.ERROR, message: errorMessageOf(error) };
}

/**
 * Content capture of a request: the configured system prompt as `gen_ai.system_instructions`,
 * every other message (a caller's own system messages included) as `gen_ai.input.messages`, and
 * the tool definitions.
 */
function addRequestContent(attributes: Attributes, messages: readonly Message[], tools: readonly ToolSpec[], options: AttributeOptions): void {
  const { instructions, conversation } = splitInstructions(messages, options.systemPrompt);
  if (instructions !== undefined) setContent(attributes, sc.ATTR_GEN_AI_SYSTEM_INSTRUCTIONS, systemInstructions(instructions), options.maxContentBytes);
  setContent(attributes, sc.ATTR_GEN_AI_INPUT_MESSAGES, inputMessages(conversation), options.maxContentBytes);
  const definitions = toolDefinitions(tools);
  if (definitions !== undefined) setContent(attributes, sc.ATTR_GEN_AI_TOOL_DEFINITIONS, definitions, options.maxContentBytes);
}

/** Token counts; cache and reasoning only when the provider reported some. */
function setUsage(attributes: Attributes, usage: Usage): void {
  attributes[sc.ATTR_GEN_AI_USAGE_INPUT_TOKENS] = usage.inputTokens;
  attributes[sc.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS] = usage.outputTokens;
  if (usage.cachedInputTokens > 0) attributes[sc.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = usage.cachedInputTokens;
  if (usage.cacheWriteInputTokens !== undefined && usage.cacheWriteInputTokens > 0) {
    attributes[sc.ATTR_GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS] = usage.cacheWriteInputTokens;
  }
  if (usage.reasoningTokens > 0) attributes[sc.ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = usage.reasoningTokens;
}
