/**
 * The GenAI semantic conventions' attributes of skiff's three spans (`invoke_agent`, `chat`,
 * `execute_tool`), at their start and at their end: which keys, in which order, under which
 * conditions. Names come from semconv.ts, message content from content.ts. The order in which keys
 * are set is the order in which they are exported.
 */
import { type Attributes, type AttributeValue, type SpanStatus, SpanStatusCode } from "@opentelemetry/api";
import type { Message, Usage } from "../model/messages.ts";
import type { ModelResponse, ToolSpec } from "../model/model.ts";
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
import { errorMessageOf } from "./error-type.ts";
import * as sc from "./semconv.ts";
import type { ChatSpanInfo, RunSpanInfo, RunSpanOutcome, ToolSpanInfo } from "./tracer.ts";

/** The agent span's attributes when the run starts; content is added apart (addRequestContent), once the run is sampled. */
export function agentStartAttributes(info: RunSpanInfo): Attributes {
  const attributes: Attributes = {
    [sc.ATTR_GEN_AI_OPERATION_NAME]: sc.GEN_AI_OPERATION_INVOKE_AGENT,
    [sc.ATTR_GEN_AI_AGENT_NAME]: info.agentName,
    [sc.ATTR_GEN_AI_REQUEST_MODEL]: info.requestModel,
  };
  if (info.conversationId !== undefined) attributes[sc.ATTR_GEN_AI_CONVERSATION_ID] = info.conversationId;
  return attributes;
}

/** Adds what the run's end tells: usage, cost, finish reason, the answer, and `error.type`. */
export function setAgentEnd(attributes: Attributes, outcome: RunSpanOutcome, capture: boolean): void {
  setUsage(attributes, outcome.usage);
  if (outcome.costUsd !== undefined) {
    attributes[sc.ATTR_GEN_AI_USAGE_COST_AMOUNT] = outcome.costUsd;
    attributes[sc.ATTR_GEN_AI_USAGE_COST_CURRENCY] = "USD";
  }
  attributes[sc.ATTR_GEN_AI_RESPONSE_FINISH_REASONS] = [outcome.finishReason];
  if (capture && outcome.error === undefined && outcome.output !== undefined && outcome.output !== "") {
    attributes[sc.ATTR_GEN_AI_OUTPUT_MESSAGES] = answerMessagesJson(outcome.output, outcome.finishReason);
  }
}

/** A chat span's attributes when the request starts (content only when `capture` is on). */
export function chatStartAttributes(chat: ChatSpanInfo, conversationId: string | undefined, capture: boolean): Attributes {
  const attributes: Attributes = {
    [sc.ATTR_GEN_AI_OPERATION_NAME]: sc.GEN_AI_OPERATION_CHAT,
    [sc.ATTR_GEN_AI_PROVIDER_NAME]: chat.provider,
    [sc.ATTR_GEN_AI_REQUEST_MODEL]: chat.model,
  };
  if (chat.serverAddress !== undefined) attributes[sc.ATTR_SERVER_ADDRESS] = chat.serverAddress;
  if (chat.serverPort !== undefined) attributes[sc.ATTR_SERVER_PORT] = chat.serverPort;
  // Conditionally required "if and only if the request streams": never set to false.
  if (chat.stream) attributes[sc.ATTR_GEN_AI_REQUEST_STREAM] = true;
  if (conversationId !== undefined) attributes[sc.ATTR_GEN_AI_CONVERSATION_ID] = conversationId;
  if (capture) addRequestContent(attributes, chat.messages, chat.tools);
  return attributes;
}

/** Adds the model's answer: response id and model, finish reason, usage, and its message. */
export function setChatEnd(attributes: Attributes, response: ModelResponse, capture: boolean): void {
  if (response.id !== undefined) attributes[sc.ATTR_GEN_AI_RESPONSE_ID] = response.id;
  attributes[sc.ATTR_GEN_AI_RESPONSE_MODEL] = response.model;
  attributes[sc.ATTR_GEN_AI_RESPONSE_FINISH_REASONS] = [response.finishReason];
  setUsage(attributes, response.usage);
  if (capture) attributes[sc.ATTR_GEN_AI_OUTPUT_MESSAGES] = outputMessagesJson(response.message, response.finishReason);
}

/** A tool span's attributes when the call starts. */
export function toolStartAttributes(tool: ToolSpanInfo, agentName: string, capture: boolean): Attributes {
  const attributes: Attributes = {
    [sc.ATTR_GEN_AI_OPERATION_NAME]: sc.GEN_AI_OPERATION_EXECUTE_TOOL,
    [sc.ATTR_GEN_AI_TOOL_NAME]: tool.name,
    [sc.ATTR_GEN_AI_TOOL_CALL_ID]: tool.callId,
    [sc.ATTR_GEN_AI_TOOL_TYPE]: tool.type,
    [sc.ATTR_GEN_AI_AGENT_NAME]: agentName,
  };
  if (tool.description !== "") attributes[sc.ATTR_GEN_AI_TOOL_DESCRIPTION] = tool.description;
  if (capture) attributes[sc.ATTR_GEN_AI_TOOL_CALL_ARGUMENTS] = toolArgumentsJson(tool.arguments);
  return attributes;
}

/** Adds a successful call's result (only then, as the conventions say). */
export function setToolEnd(attributes: Attributes, result: string, capture: boolean): void {
  if (capture) attributes[sc.ATTR_GEN_AI_TOOL_CALL_RESULT] = toolResultJson(result);
}

/** Sets `error.type` and returns status ERROR with the message as description (success leaves the status UNSET). */
export function markError(attributes: Attributes, errorType: string, error: unknown): SpanStatus {
  attributes[sc.ATTR_ERROR_TYPE] = errorType;
  return { code: SpanStatusCode.ERROR, message: errorMessageOf(error) };
}

/** Content capture of a request: its messages (system instructions apart, as the conventions want) and tool definitions. */
export function addRequestContent(attributes: Attributes, messages: readonly Message[], tools: readonly ToolSpec[]): void {
  const { system, rest } = splitSystem(messages);
  setIfDefined(attributes, sc.ATTR_GEN_AI_SYSTEM_INSTRUCTIONS, systemInstructionsJson(system));
  attributes[sc.ATTR_GEN_AI_INPUT_MESSAGES] = inputMessagesJson(rest);
  setIfDefined(attributes, sc.ATTR_GEN_AI_TOOL_DEFINITIONS, toolDefinitionsJson(tools));
}

/** Token counts; cache and reasoning only when the provider reported some. */
function setUsage(attributes: Attributes, usage: Usage): void {
  attributes[sc.ATTR_GEN_AI_USAGE_INPUT_TOKENS] = usage.inputTokens;
  attributes[sc.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS] = usage.outputTokens;
  if (usage.cachedInputTokens > 0) attributes[sc.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = usage.cachedInputTokens;
  if (usage.reasoningTokens > 0) attributes[sc.ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = usage.reasoningTokens;
}

function setIfDefined(attributes: Attributes, key: string, value: AttributeValue | undefined): void {
  if (value !== undefined) attributes[key] = value;
}
