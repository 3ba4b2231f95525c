/**
 * skiff's own conversation types. They mirror the OpenAI chat shape closely (so sessions and
 * the HTTP API read naturally) but belong to skiff: adapters convert to and from them.
 */

/** A JSON object kept as the provider sent it, to be sent back unchanged. */
export type ProviderData = { readonly [key: string]: unknown };

/** A call the model asked for. `arguments` is the raw JSON text the model wrote, unparsed. */
export interface ToolCall {
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
  /**
   * Provider data that came with the call and must go back with it on the next request, as
   * received: Gemini's `{"google":{"thought_signature":…}}`, without which its thinking models
   * refuse the conversation.
   */
  readonly extra_content?: ProviderData;
}

export interface SystemMessage {
  readonly role: "system";
  readonly content: string;
}

export interface UserMessage {
  readonly role: "user";
  readonly content: string;
}

export interface AssistantMessage {
  readonly role: "assistant";
  readonly content: string | null;
  readonly tool_calls?: readonly ToolCall[];
  /**
   * The model's reasoning as DeepSeek, Kimi, Qwen and older vLLM name it. Sent back with the
   * message: DeepSeek refuses a conversation whose tool-calling turns lack it.
   */
  readonly reasoning_content?: string;
  /**
   * The model's reasoning under the other names providers use (`reasoning`: OpenRouter, Groq,
   * Ollama, newer vLLM; Mistral's `thinking` parts). Kept in the history, not sent back: Groq and
   * Mistral refuse fields they do not know.
   */
  readonly reasoning?: string;
}

export interface ToolMessage {
  readonly role: "tool";
  readonly tool_call_id: string;
  readonly content: string;
}

export type Message = SystemMessage | UserMessage | AssistantMessage | ToolMessage;

/** Token counts of one model call, or summed over a run. */
export interface Usage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Subset of inputTokens served from the provider's prompt cache. */
  readonly cachedInputTokens: number;
  /**
   * Subset of inputTokens written to the provider's prompt cache, when the provider says
   * (OpenRouter, LiteLLM); absent otherwise, so every Usage built before it stays valid.
   */
  readonly cacheWriteInputTokens?: number;
  /** Subset of outputTokens spent on hidden reasoning. */
  readonly reasoningTokens: number;
}

export const emptyUsage: Usage = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, reasoningTokens: 0 };

/** Adds two usages field by field. */
export function addUsage(a: Usage, b: Usage): Usage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cachedInputTokens: a.cachedInputTokens + b.cachedInputTokens,
    reasoningTokens: a.reasoningTokens + b.reasoningTokens,
    // Only when either side has it: a Usage without it stays as it was.
    ...(a.cacheWriteInputTokens === undefined && b.cacheWriteInputTokens === undefined
      ? {}
      : { cacheWriteInputTokens: (a.cacheWriteInputTokens ?? 0) + (b.cacheWriteInputTokens ?? 0) }),
  };
}
