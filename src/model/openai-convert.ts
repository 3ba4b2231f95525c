/**
 * Translation between skiff's conversation types and the chat-completions wire format.
 * The wire shapes are declared here (they are the protocol, not the SDK) so that only openai.ts
 * imports `openai`; TypeScript checks at the call site that they fit the SDK's parameter types.
 * Whole replies are read from `unknown` and checked by hand (the pieces in openai-reply.ts):
 * OpenAI-compatible servers vary, and a reply we cannot read must become a clear error rather
 * than a crash deeper in the loop. Streams: openai-stream.ts.
 */
import type { AssistantMessage, Message, ProviderData, ToolCall, Usage } from "./messages.ts";
import type { ModelFinishReason, ToolSpec } from "./model.ts";
import {
  assistantMessage,
  describe,
  finishedWithError,
  fromWireToolCall,
  isRecord,
  MalformedReplyError,
  readContent,
  replyErrorOf,
  text,
  toFinishReason,
  toUsage,
} from "./openai-reply.ts";

/** A tool call as the chat-completions API writes it. */
export interface WireToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
  /** Provider data sent back as it came (Gemini's thought signature). */
  extra_content?: ProviderData;
}

/** A request message as the chat-completions API expects it. */
export type WireMessage =
  | { role: "system"; content: string }
  | { role: "user"; content: string }
  | { role: "assistant"; content: string | null; tool_calls?: WireToolCall[]; reasoning_content?: string }
  | { role: "tool"; tool_call_id: string; content: string };

/** A tool offered to the model, as the chat-completions API expects it. */
export interface WireTool {
  type: "function";
  function: { name: string; description: string; parameters: { [key: string]: unknown } };
}

/** One model reply read from the wire, before the adapter adds its provider name. */
export interface Completion {
  readonly message: AssistantMessage;
  readonly finishReason: ModelFinishReason;
  readonly usage: Usage;
  readonly id: string | undefined;
  readonly model: string;
}

/** How the request side treats what a provider wants back. */
export interface EchoRules {
  /**
   * Give every assistant message a `reasoning_content` ("" when none was kept). DeepSeek's
   * thinking mode refuses a conversation whose tool-calling turns lack the field (HTTP 400
   * "Missing `reasoning_content` field"), also for history written by another model.
   */
  readonly reasoningOnEveryAssistant: boolean;
}

/**
 * Converts skiff messages to chat-completions request messages. What a provider gave to be sent
 * back goes back: `reasoning_content` and a call's `extra_content`. `reasoning` is not sent: the
 * providers that write it (Groq among them) refuse it in a request.
 */
export function toWireMessages(messages: readonly Message[], rules: EchoRules): WireMessage[] {
  return messages.map((message): WireMessage => {
    switch (message.role) {
      case "system":
      case "user":
        return { role: message.role, content: message.content };
      case "tool":
        return { role: "tool", tool_call_id: message.tool_call_id, content: message.content };
      case "assistant": {
        const calls = message.tool_calls ?? [];
        // OpenAI rejects `tool_calls: []`, so the key is left out when there are none.
        const wire: WireMessage =
          calls.length === 0
            ? { role: "assistant", content: message.content ?? "" }
            : { role: "assistant", content: message.content, tool_calls: calls.map(toWireToolCall) };
        const reasoning = message.reasoning_content ?? (rules.reasoningOnEveryAssistant ? "" : undefined);
        if (reasoning !== undefined) wire.reasoning_content = reasoning;
        return wire;
      }
      default: {
        const unknown: never = message;
        throw new Error(`unknown message role: ${JSON.stringify(unknown)}`);
      }
    }
  });
}

function toWireToolCall(call: ToolCall): WireToolCall {
  // A call the model made without arguments is sent back as "{}": strict providers (Gemini,
  // Anthropic's compatibility layer) refuse "" as not being JSON.
  const args = call.arguments.trim() === "" ? "{}" : call.arguments;
  const wire: WireToolCall = { id: call.id, type: "function", function: { name: call.name, arguments: args } };
  if (call.extra_content) wire.extra_content = call.extra_content;
  return wire;
}

/** Converts skiff tool specs to chat-completions `tools`; undefined when there are none (OpenAI rejects `[]`). */
export function toWireTools(tools: readonly ToolSpec[]): WireTool[] | undefined {
  if (tools.length === 0) return undefined;
  return tools.map((tool) => ({
    type: "function",
    function: { name: tool.name, description: tool.description, parameters: { ...tool.parameters } },
  }));
}


/**
 * Reads a non-streaming chat completion. Throws ReplyError when the 200 carries an error object,
 * MalformedReplyError when it is not a completion.
 */
export function fromWireCompletion(body: unknown, requestedModel: string): Completion {
  if (!isRecord(body)) throw new MalformedReplyError(`expected a JSON object, got ${describe(body)}`);
  const error = replyErrorOf(body);
  if (error) throw error;
  const choice = Array.isArray(body.choices) ? body.choices[0] : undefined;
  if (!isRecord(choice)) throw new MalformedReplyError("the reply has no choices[0]");
  const finish = text(choice.finish_reason);
  if (finish === "error") throw finishedWithError();
  const common = { usage: toUsage(body.usage), id: text(body.id) || undefined, model: text(body.model) || requestedModel };
  if (!isRecord(choice.message)) {
    // Azure's content filter answers with the finish reason and no message at all.
    if (finish === "content_filter") return { message: { role: "assistant", content: "" }, finishReason: "content_filter", ...common };
    throw new MalformedReplyError("the reply has no choices[0].message");
  }
  const message = choice.message;
  const toolCalls = Array.isArray(message.tool_calls)
    ? message.tool_calls.map((raw, index) => fromWireToolCall(raw, index))
    : isRecord(message.function_call)
      ? [fromWireToolCall(message.function_call, 0)] // the legacy single call of older deployments
      : [];
  const content = readContent(message.content);
  const reasoning = (text(message.reasoning) ?? "") + content.thinking;
  return {
    message: assistantMessage(content.text ?? text(message.refusal) ?? null, toolCalls, text(message.reasoning_content), reasoning),
    // A reply that names no finish reason (Snowflake Cortex) finished all the same.
    finishReason: toFinishReason(finish ?? "stop", toolCalls.length > 0),
    ...common,
  };
}
