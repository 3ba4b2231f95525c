/**
 * Translation between skiff's conversation types and the chat-completions wire format.
 * The wire shapes are declared here (they are the protocol, not the SDK) so that only openai.ts
 * imports `openai`; TypeScript checks at the call site that they fit the SDK's parameter types.
 * Replies are read from `unknown` and checked by hand: OpenAI-compatible servers vary, and a
 * reply we cannot read must become a clear error rather than a crash deeper in the loop.
 */
import type { AssistantMessage, Message, ToolCall, Usage } from "./messages.ts";
import { emptyUsage } from "./messages.ts";
import type { ModelFinishReason, ToolSpec } from "./model.ts";

/** A tool call as the chat-completions API writes it. */
export interface WireToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** A request message as the chat-completions API expects it. */
export type WireMessage =
  | { role: "system"; content: string }
  | { role: "user"; content: string }
  | { role: "assistant"; content: string | null; tool_calls?: WireToolCall[] }
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

/** The provider sent something that is not a chat completion (or chunk) we can read. */
export class MalformedReplyError extends Error {
  override readonly name = "MalformedReplyError";
}

/** Converts skiff messages to chat-completions request messages. */
export function toWireMessages(messages: readonly Message[]): WireMessage[] {
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
        if (calls.length === 0) return { role: "assistant", content: message.content ?? "" };
        return {
          role: "assistant",
          content: message.content,
          tool_calls: calls.map((call) => ({
            id: call.id,
            type: "function",
            function: { name: call.name, arguments: call.arguments },
          })),
        };
      }
      default: {
        const unknown: never = message;
        throw new Error(`unknown message role: ${JSON.stringify(unknown)}`);
      }
    }
  });
}

/** Converts skiff tool specs to chat-completions `tools`; undefined when there are none (OpenAI rejects `[]`). */
export function toWireTools(tools: readonly ToolSpec[]): WireTool[] | undefined {
  if (tools.length === 0) return undefined;
  return tools.map((tool) => ({
    type: "function",
    function: { name: tool.name, description: tool.description, parameters: { ...tool.parameters } },
  }));
}

/** Maps a provider finish reason to skiff's; a reply that carries tool calls always counts as `tool_calls`. */
export function toFinishReason(raw: string | null | undefined, hasToolCalls: boolean): ModelFinishReason {
  // Some servers (Ollama, older vLLM) say "stop" on a reply with tool calls; the calls are what matter.
  if (hasToolCalls) return "tool_calls";
  switch (raw) {
    case "stop":
    case "length":
    case "content_filter":
    case "tool_calls":
      return raw;
    case "function_call":
      return "tool_calls";
    default:
      return "other";
  }
}

/** Reads chat-completions `usage`; absent fields count as 0. */
export function toUsage(raw: unknown): Usage {
  if (!isRecord(raw)) return emptyUsage;
  const prompt = isRecord(raw.prompt_tokens_details) ? raw.prompt_tokens_details : {};
  const completion = isRecord(raw.completion_tokens_details) ? raw.completion_tokens_details : {};
  return {
    inputTokens: count(raw.prompt_tokens),
    outputTokens: count(raw.completion_tokens),
    cachedInputTokens: count(prompt.cached_tokens),
    reasoningTokens: count(completion.reasoning_tokens),
  };
}

/** Reads a non-streaming chat completion; throws MalformedReplyError when it is not one. */
export function fromWireCompletion(body: unknown, requestedModel: string): Completion {
  if (!isRecord(body)) throw new MalformedReplyError(`expected a JSON object, got ${describe(body)}`);
  const choice = Array.isArray(body.choices) ? body.choices[0] : undefined;
  if (!isRecord(choice) || !isRecord(choice.message)) {
    throw new MalformedReplyError("the reply has no choices[0].message");
  }
  const message = choice.message;
  const rawCalls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
  const toolCalls = rawCalls.map((raw, index) => fromWireToolCall(raw, index));
  const content = text(message.content) ?? text(message.refusal) ?? null;
  return {
    message: assistantMessage(content, toolCalls),
    finishReason: toFinishReason(text(choice.finish_reason), toolCalls.length > 0),
    usage: toUsage(body.usage),
    id: text(body.id),
    model: text(body.model) || requestedModel,
  };
}

function fromWireToolCall(raw: unknown, index: number): ToolCall {
  if (!isRecord(raw)) throw new MalformedReplyError(`tool_calls[${index}] is ${describe(raw)}`);
  const fn = isRecord(raw.function) ? raw.function : isRecord(raw.custom) ? raw.custom : undefined;
  const name = fn ? text(fn.name) : undefined;
  if (!fn || !name) throw new MalformedReplyError(`tool_calls[${index}] has no function name`);
  return {
    id: text(raw.id) || fallbackCallId(index),
    name,
    arguments: text(fn.arguments) ?? text(fn.input) ?? "",
  };
}

interface PartialCall {
  id: string;
  name: string;
  arguments: string;
}

/**
 * Assembles a streamed reply from its chunks: text deltas in order, tool-call fragments merged
 * by `index`, and the usage chunk that `stream_options.include_usage` adds at the end.
 */
export class StreamAccumulator {
  private content = "";
  private readonly calls: PartialCall[] = [];
  private rawFinishReason: string | undefined;
  private usage: Usage = emptyUsage;
  private id: string | undefined;
  private model: string | undefined;

  /** Adds one chunk; returns the text it carries for the user ("" when none). */
  add(chunk: unknown): string {
    if (!isRecord(chunk)) throw new MalformedReplyError(`expected a JSON object chunk, got ${describe(chunk)}`);
    this.id ??= text(chunk.id);
    this.model ||= text(chunk.model);
    if (chunk.usage !== undefined && chunk.usage !== null) this.usage = toUsage(chunk.usage);
    // The final usage chunk has `choices: []`.
    const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
    if (!isRecord(choice)) return "";
    const finish = text(choice.finish_reason);
    if (finish) this.rawFinishReason = finish;
    const delta = isRecord(choice.delta) ? choice.delta : {};
    if (Array.isArray(delta.tool_calls)) delta.tool_calls.forEach((raw, position) => this.addCall(raw, position));
    const piece = (text(delta.content) ?? "") + (text(delta.refusal) ?? "");
    this.content += piece;
    return piece;
  }

  private addCall(raw: unknown, position: number): void {
    if (!isRecord(raw)) throw new MalformedReplyError(`a tool_calls delta is ${describe(raw)}`);
    const index = typeof raw.index === "number" ? raw.index : position;
    const call = (this.calls[index] ??= { id: "", name: "", arguments: "" });
    const fn = isRecord(raw.function) ? raw.function : {};
    call.id ||= text(raw.id) ?? "";
    // The name comes whole in the first fragment; later fragments carry only argument text.
    call.name ||= text(fn.name) ?? "";
    call.arguments += text(fn.arguments) ?? "";
  }

  /** The whole reply, or undefined when the stream ended before the model said why it stopped. */
  result(requestedModel: string): Completion | undefined {
    if (this.rawFinishReason === undefined) return undefined;
    const toolCalls = this.calls
      .filter((call) => call !== undefined)
      .map((call, index): ToolCall => {
        if (!call.name) throw new MalformedReplyError(`streamed tool call ${index} has no function name`);
        return { id: call.id || fallbackCallId(index), name: call.name, arguments: call.arguments };
      });
    return {
      message: assistantMessage(this.content === "" && toolCalls.length > 0 ? null : this.content, toolCalls),
      finishReason: toFinishReason(this.rawFinishReason, toolCalls.length > 0),
      usage: this.usage,
      id: this.id,
      model: this.model || requestedModel,
    };
  }
}

function assistantMessage(content: string | null, toolCalls: readonly ToolCall[]): AssistantMessage {
  return toolCalls.length > 0 ? { role: "assistant", content, tool_calls: toolCalls } : { role: "assistant", content };
}

/** Some local servers omit call ids; tool results must still be matched to their call within the step. */
function fallbackCallId(index: number): string {
  return `call_${index}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

function describe(value: unknown): string {
  if (typeof value === "string") return `text ${JSON.stringify(value.slice(0, 80))}`;
  return value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
}
