/**
 * Reading the pieces of a chat-completions reply that whole replies (openai-convert.ts) and
 * stream chunks (openai-stream.ts) share: usage, finish reasons, content given as parts, tool
 * calls, and the error objects some providers send with a 200. Everything is read from `unknown`
 * and checked by hand, because OpenAI-compatible servers each bend the format their own way.
 */
import type { AssistantMessage, ProviderData, ToolCall, Usage } from "./messages.ts";
import { emptyUsage } from "./messages.ts";
import type { ModelFinishReason } from "./model.ts";

/** The provider sent something that is not a chat completion (or chunk) we can read. */
export class MalformedReplyError extends Error {
  override readonly name = "MalformedReplyError";
}

/**
 * The provider answered 200 but reported an error in the body or in the stream: OpenRouter and
 * Groq send `{"error":{"code":400,"message":…}}` as a data event (or under `event: error`), vLLM
 * `{"object":"error","code":400,…}`. `status` is the HTTP status the error names, when it names one.
 */
export class ReplyError extends Error {
  override readonly name = "ReplyError";

  constructor(
    message: string,
    readonly status: number | undefined,
    readonly errorCode: string | undefined,
    readonly errorType: string | undefined,
  ) {
    super(message);
  }
}

/** The error a reply or chunk carries instead of an answer, or undefined when it carries none. */
export function replyErrorOf(body: Record<string, unknown>, isErrorEvent = false): ReplyError | undefined {
  const raw = body.error;
  const payload: Record<string, unknown> | undefined = isRecord(raw)
    ? raw
    : typeof raw === "string" && raw !== ""
      ? { message: raw }
      : body.object === "error" || isErrorEvent
        ? body
        : undefined;
  if (!payload) return undefined;
  const message = text(payload.message) || "the provider reported an error";
  const code = payload.code;
  // OpenRouter puts the HTTP status it would have sent in `code`; others use `status`.
  const status = asStatus(code) ?? asStatus(payload.status);
  const errorCode = typeof code === "string" && asStatus(code) === undefined ? code : undefined;
  return new ReplyError(message, status, errorCode, text(payload.type));
}

/** OpenRouter ends a choice with `finish_reason: "error"` when generation failed midway. */
export function finishedWithError(): ReplyError {
  return new ReplyError('the provider ended the answer with finish_reason "error"', undefined, undefined, undefined);
}

function asStatus(value: unknown): number | undefined {
  const n = typeof value === "number" ? value : typeof value === "string" && /^\d{3}$/.test(value) ? Number(value) : Number.NaN;
  return Number.isInteger(n) && n >= 400 && n <= 599 ? n : undefined;
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

/**
 * Reads chat-completions `usage`; absent fields count as 0. xAI and Gemini bill reasoning tokens
 * outside `completion_tokens` (their `total_tokens` is prompt + completion + reasoning): what
 * `total_tokens` has beyond prompt and completion is counted as output, so budgets count what the
 * provider bills.
 */
export function toUsage(raw: unknown): Usage {
  if (!isRecord(raw)) return emptyUsage;
  const prompt = isRecord(raw.prompt_tokens_details) ? raw.prompt_tokens_details : {};
  const completion = isRecord(raw.completion_tokens_details) ? raw.completion_tokens_details : {};
  const inputTokens = count(raw.prompt_tokens);
  const completionTokens = count(raw.completion_tokens);
  const unlisted = Math.max(0, count(raw.total_tokens) - inputTokens - completionTokens);
  const outputTokens = completionTokens + unlisted;
  // Cache writes, where a provider reports them: OpenRouter in the details, LiteLLM (passing
  // Anthropic's count through) at the top.
  const cacheWrite = count(prompt.cache_write_tokens) || count(raw.cache_creation_input_tokens);
  return {
    inputTokens,
    outputTokens,
    cachedInputTokens: count(prompt.cached_tokens),
    reasoningTokens: Math.min(outputTokens, Math.max(count(completion.reasoning_tokens), unlisted)),
    ...(cacheWrite > 0 ? { cacheWriteInputTokens: cacheWrite } : {}),
  };
}

/** Text and reasoning of a message `content`. */
export interface ReadContent {
  readonly text: string | null;
  readonly thinking: string;
}

/**
 * Reads a message `content`: a string, null, or (Mistral's thinking models) an array of parts,
 * `{type:"text",text}` being the answer and `{type:"thinking",thinking:[{type:"text",text}]}` the
 * reasoning.
 */
export function readContent(content: unknown): ReadContent {
  if (typeof content === "string") return { text: content, thinking: "" };
  if (!Array.isArray(content)) return { text: null, thinking: "" };
  const read = { text: "", thinking: "" };
  for (const part of content) addPart(part, read);
  // Only thinking (a step that calls tools): no text, as with `content: null`.
  return read.text === "" ? { text: null, thinking: read.thinking } : read;
}

/** Adds one content part to `into`: text (or a refusal) to `text`, thinking to `thinking`. */
export function addPart(part: unknown, into: { text: string; thinking: string }): void {
  if (typeof part === "string") {
    into.text += part;
    return;
  }
  if (!isRecord(part)) return;
  if (part.type === "thinking" || part.type === "reasoning") {
    const thinking = part.thinking ?? part.text;
    if (typeof thinking === "string") into.thinking += thinking;
    else if (Array.isArray(thinking)) for (const inner of thinking) if (isRecord(inner)) into.thinking += text(inner.text) ?? "";
    return;
  }
  into.text += text(part.text) ?? text(part.refusal) ?? "";
}

/** Reads one tool call of a whole reply; the legacy `function_call` is read as one too. */
export function fromWireToolCall(raw: unknown, index: number): ToolCall {
  if (!isRecord(raw)) throw new MalformedReplyError(`tool_calls[${index}] is ${describe(raw)}`);
  const fn = isRecord(raw.function) ? raw.function : isRecord(raw.custom) ? raw.custom : raw.name !== undefined ? raw : undefined;
  const name = fn ? text(fn.name) : undefined;
  if (!fn || !name) throw new MalformedReplyError(`tool_calls[${index}] has no function name`);
  return toolCall(text(raw.id) || fallbackCallId(index), name, argumentsText(fn.arguments ?? fn.input), raw.extra_content);
}

/** A tool call, with the provider's `extra_content` only when it sent one. */
export function toolCall(id: string, name: string, args: string, extra: unknown): ToolCall {
  return isRecord(extra) ? { id, name, arguments: args, extra_content: extra as ProviderData } : { id, name, arguments: args };
}

/** Arguments as JSON text; a few servers send an object instead of the string the API specifies. */
export function argumentsText(value: unknown): string {
  if (typeof value === "string") return value;
  return isRecord(value) ? JSON.stringify(value) : "";
}

/** An assistant message with only the fields that have something to say. */
export function assistantMessage(
  content: string | null,
  toolCalls: readonly ToolCall[],
  reasoningContent: string | undefined,
  reasoning: string | undefined,
): AssistantMessage {
  const message: { -readonly [K in keyof AssistantMessage]: AssistantMessage[K] } = { role: "assistant", content };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  if (reasoningContent !== undefined) message.reasoning_content = reasoningContent;
  if (reasoning) message.reasoning = reasoning;
  return message;
}

/** Some local servers omit call ids; tool results must still be matched to their call within the step. */
export function fallbackCallId(index: number): string {
  return `call_${index}`;
}

/** A plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The value when it is a string. */
export function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

/** A short description of an unexpected value, for error messages. */
export function describe(value: unknown): string {
  if (typeof value === "string") return `text ${JSON.stringify(value.slice(0, 80))}`;
  return value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
}
