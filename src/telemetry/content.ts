/**
 * Message content in the GenAI conventions' "parts" format (gen-ai-input-messages.json and
 * friends), serialised to the JSON strings that go on spans when content capture is on.
 * Pure functions of skiff's own message types: no OpenTelemetry here.
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
}

interface OutputMessage extends ChatMessage {
  readonly finish_reason: string;
}

/** Leading system messages become `gen_ai.system_instructions`; the rest is the chat history. */
export function splitSystem(messages: readonly Message[]): { system: readonly string[]; rest: readonly Message[] } {
  let index = 0;
  const system: string[] = [];
  while (index < messages.length && messages[index]!.role === "system") system.push(messages[index++]!.content ?? "");
  return { system, rest: messages.slice(index) };
}

/** `gen_ai.system_instructions`: an array of text parts, or undefined when there are none. */
export function systemInstructionsJson(system: readonly string[]): string | undefined {
  if (system.length === 0) return undefined;
  return JSON.stringify(system.map((content): Part => ({ type: "text", content })));
}

/** `gen_ai.input.messages`: the messages in the order they were sent. */
export function inputMessagesJson(messages: readonly Message[]): string {
  return JSON.stringify(messages.map(toChatMessage));
}

/** `gen_ai.output.messages` for one model reply; `finishReason` is the provider's raw value. */
export function outputMessagesJson(message: AssistantMessage, finishReason: string): string {
  const output: OutputMessage = { ...toChatMessage(message), finish_reason: messageFinishReason(finishReason) };
  return JSON.stringify([output]);
}

/** `gen_ai.output.messages` for a whole run: its final answer as one assistant message. */
export function answerMessagesJson(text: string, finishReason: string): string {
  const output: OutputMessage = {
    role: "assistant",
    parts: [{ type: "text", content: text }],
    finish_reason: messageFinishReason(finishReason),
  };
  return JSON.stringify([output]);
}

/** `gen_ai.tool.definitions`, or undefined when no tools are offered. */
export function toolDefinitionsJson(tools: readonly ToolSpec[]): string | undefined {
  if (tools.length === 0) return undefined;
  return JSON.stringify(
    tools.map((tool) => ({ type: "function", name: tool.name, description: tool.description, parameters: tool.parameters })),
  );
}

/**
 * `gen_ai.tool.call.arguments`: the conventions want an object, so the model's JSON text is
 * parsed first ("" means no arguments); text that is not JSON is kept as a string.
 */
export function toolArgumentsJson(raw: string): string {
  return JSON.stringify(parseArguments(raw));
}

/** `gen_ai.tool.call.result`: parsed when it is JSON, else the text as a string (e.g. a cut-off output). */
export function toolResultJson(text: string): string {
  return JSON.stringify(parseOrKeep(text));
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
