/**
 * Message content in the GenAI conventions' "parts" format (gen-ai-input-messages.json and
 * friends), as values; genai-attributes.ts serialises them (within `[otel] max_attribute_bytes`)
 * into the JSON strings that go on spans when content capture is on. Pure functions of skiff's
 * own message types: no OpenTelemetry here.
 */
import type { AssistantMessage, Message } from "../model/messages.ts";
import type { ToolSpec } from "../model/model.ts";

type Part =
  | { readonly type: "text"; readonly content: string }
  | { readonly type: "tool_call"; readonly id: string; readonly name: string; readonly arguments: unknown }
  | { readonly type: "tool_call_response"; readonly id: string; readonly response: unknown };

interface ChatMessage {
  readonly role: string;
  readonly parts: readonly Part[];
  /** Output messages only, and only for readers that still require it (see outputMessages). */
  readonly finish_reason?: string;
}

/** What a request's messages are made of for the conventions: the agent's instructions and the conversation. */
export interface SplitMessages {
  /** The configured system prompt, when the request starts with it. */
  readonly instructions: string | undefined;
  /** Everything else, in order; a caller's own system messages stay here, as role `system`. */
  readonly conversation: readonly Message[];
}

/**
 * Separates the agent's configured system prompt (skiff always sends it first) from the
 * conversation. Only that prompt is `gen_ai.system_instructions`: a system message a client sent
 * (on /v1/chat/completions, say) is part of the chat history, which the conventions put in
 * `gen_ai.input.messages`.
 */
export function splitInstructions(messages: readonly Message[], systemPrompt: string | undefined): SplitMessages {
  const first = messages[0];
  if (systemPrompt !== undefined && first?.role === "system" && first.content === systemPrompt) {
    return { instructions: systemPrompt, conversation: messages.slice(1) };
  }
  return { instructions: undefined, conversation: messages };
}

/** `gen_ai.system_instructions`: the prompt as one text part. */
export function systemInstructions(text: string): readonly Part[] {
  return [{ type: "text", content: text }];
}

/** `gen_ai.input.messages`: the messages in the order they were sent. */
export function inputMessages(messages: readonly Message[]): readonly ChatMessage[] {
  return messages.map(toChatMessage);
}

/**
 * `gen_ai.output.messages` for one model reply. The conventions moved the finish reason out of
 * the message into `gen_ai.response.finish_reasons`; pass `finishReason` only for readers that
 * still require it (Phoenix's converter, built on the 1.41 schema, drops output messages without it).
 */
export function outputMessages(message: AssistantMessage, finishReason: string | undefined): readonly ChatMessage[] {
  return [withFinishReason(toChatMessage(message), finishReason)];
}

/** `gen_ai.output.messages` for a whole run: its final answer as one assistant message. */
export function answerMessages(text: string, finishReason: string | undefined): readonly ChatMessage[] {
  return [withFinishReason({ role: "assistant", parts: [{ type: "text", content: text }] }, finishReason)];
}

/** `gen_ai.tool.definitions`, or undefined when no tools are offered. */
export function toolDefinitions(tools: readonly ToolSpec[]): readonly unknown[] | undefined {
  if (tools.length === 0) return undefined;
  return tools.map((tool) => ({ type: "function", name: tool.name, description: tool.description, parameters: tool.parameters }));
}

/**
 * `gen_ai.tool.call.arguments`: the conventions want an object, so the model's JSON text is
 * parsed first ("" means no arguments); text that is not JSON is kept as a string.
 */
export function toolArguments(raw: string): unknown {
  return parseArguments(raw);
}

/** `gen_ai.tool.call.result`: parsed when it is JSON, else the text as a string (e.g. a cut-off output). */
export function toolResult(text: string): unknown {
  return parseOrKeep(text);
}

/** The text of the last user message: what the user asked this run, for `input.value`. */
export function lastUserText(messages: readonly Message[]): string | undefined {
  for (let index = messages.length - 1; index >= 0; index--) {
    const message = messages[index]!;
    if (message.role === "user") return message.content;
  }
  return undefined;
}

function withFinishReason(message: ChatMessage, finishReason: string | undefined): ChatMessage {
  return finishReason === undefined ? message : { ...message, finish_reason: messageFinishReason(finishReason) };
}

function toChatMessage(message: Message): ChatMessage {
  switch (message.role) {
    case "system":
    case "user":
      return { role: message.role, parts: [{ type: "text", content: message.content }] };
    case "assistant": {
      const parts: Part[] = [];
      if (message.content) parts.push({ type: "text", content: message.content });
      for (const call of message.tool_calls ?? []) {
        parts.push({ type: "tool_call", id: call.id, name: call.name, arguments: parseArguments(call.arguments) });
      }
      return { role: "assistant", parts };
    }
    case "tool":
      // The exact text the model was sent, errors included, so a trace shows what it reacted to.
      return { role: "tool", parts: [{ type: "tool_call_response", id: message.tool_call_id, response: message.content }] };
    default: {
      const unreachable: never = message;
      throw new Error(`unknown message ${JSON.stringify(unreachable)}`);
    }
  }
}

/** The messages' finish_reason enum says `tool_call` where the span attribute keeps `tool_calls`. */
function messageFinishReason(reason: string): string {
  return reason === "tool_calls" ? "tool_call" : reason;
}

function parseArguments(raw: string): unknown {
  // Some models send "" for a tool without parameters; the loop reads that as {} too.
  return raw.trim() === "" ? {} : parseOrKeep(raw);
}

function parseOrKeep(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
