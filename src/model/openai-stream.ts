/**
 * A streamed chat completion: SSE events (sse-decoder.ts) to chunks, chunks to one reply. The
 * provider quirks live here: content given as parts, reasoning deltas, a legacy `function_call`,
 * empty ids, error objects inside a 200 stream, `[DONE]` with trailing whitespace, and streams
 * that never name a finish reason.
 */
import type { ToolCall, Usage } from "./messages.ts";
import { emptyUsage } from "./messages.ts";
import type { Completion } from "./openai-convert.ts";
import {
  addPart,
  argumentsText,
  assistantMessage,
  describe,
  fallbackCallId,
  finishedWithError,
  isRecord,
  MalformedReplyError,
  ReplyError,
  replyErrorOf,
  text,
  toFinishReason,
  toolCall,
  toUsage,
} from "./openai-reply.ts";
import { SseDecoder } from "./sse-decoder.ts";

interface PartialCall {
  id: string;
  name: string;
  arguments: string;
  extra: unknown;
}

/** How a stream ended: with the `[DONE]` sentinel, or with the end of the body. */
export type StreamEnd = "done" | "eof";

/**
 * Assembles a streamed reply from its chunks: text deltas in order, tool-call fragments merged
 * by `index`, and the usage chunk that `stream_options.include_usage` adds at the end.
 */
export class StreamAccumulator {
  /** Scratch for content parts, reused so a chunk of parts allocates nothing of its own. */
  private readonly parts = { text: "", thinking: "" };
  private content = "";
  private reasoningContent: string | undefined;
  private reasoning = "";
  private readonly calls: PartialCall[] = [];
  private rawFinishReason: string | undefined;
  private usage: Usage = emptyUsage;
  private usageSeen = false;
  private chunks = 0;
  private id: string | undefined;
  private model: string | undefined;

  /** Adds one chunk; returns the text it carries for the user ("" when none). Throws ReplyError for an error chunk. */
  add(chunk: unknown): string {
    if (!isRecord(chunk)) throw new MalformedReplyError(`expected a JSON object chunk, got ${describe(chunk)}`);
    if (chunk.error !== undefined || chunk.object === "error") {
      const error = replyErrorOf(chunk);
      if (error) throw error;
    }
    this.chunks++;
    // Azure's first chunk (prompt filter results) has `id: ""`; the first real id counts.
    this.id ||= text(chunk.id) || undefined;
    this.model ||= text(chunk.model);
    if (chunk.usage !== undefined && chunk.usage !== null) {
      this.usage = toUsage(chunk.usage);
      this.usageSeen = true;
    }
    // The final usage chunk has `choices: []`.
    const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
    if (!isRecord(choice)) return "";
    const finish = text(choice.finish_reason);
    if (finish) this.rawFinishReason = finish;
    const delta = isRecord(choice.delta) ? choice.delta : undefined;
    if (!delta) return "";
    if (Array.isArray(delta.tool_calls)) delta.tool_calls.forEach((raw, position) => this.addCall(raw, position));
    else if (isRecord(delta.function_call)) this.addCall(delta.function_call, 0); // the legacy single call
    if (typeof delta.reasoning_content === "string") this.reasoningContent = (this.reasoningContent ?? "") + delta.reasoning_content;
    if (typeof delta.reasoning === "string") this.reasoning += delta.reasoning;
    let piece = typeof delta.content === "string" ? delta.content : "";
    if (Array.isArray(delta.content)) piece = this.addParts(delta.content);
    if (typeof delta.refusal === "string") piece += delta.refusal;
    this.content += piece;
    return piece;
  }

  /** Mistral's thinking models stream `content` as parts: text is the answer, thinking is reasoning. */
  private addParts(parts: readonly unknown[]): string {
    const scratch = this.parts;
    scratch.text = "";
    scratch.thinking = "";
    for (const part of parts) addPart(part, scratch);
    this.reasoning += scratch.thinking;
    return scratch.text;
  }

  private addCall(raw: unknown, position: number): void {
    if (!isRecord(raw)) throw new MalformedReplyError(`a tool_calls delta is ${describe(raw)}`);
    const index = typeof raw.index === "number" ? raw.index : position;
    const call = (this.calls[index] ??= { id: "", name: "", arguments: "", extra: undefined });
    const fn = isRecord(raw.function) ? raw.function : raw;
    call.id ||= text(raw.id) ?? "";
    // The name comes whole in the first fragment; later fragments carry only argument text.
    call.name ||= text(fn.name) ?? "";
    call.arguments += argumentsText(fn.arguments);
    if (isRecord(raw.extra_content)) call.extra = raw.extra_content;
  }

  /**
   * The whole reply, or undefined when the stream was cut before the model finished. A stream
   * that names no finish reason (Snowflake Cortex) is finished when it ended with `[DONE]`, or
   * cleanly after its usage chunk: `stop`, or `tool_calls` when it called tools.
   */
  result(requestedModel: string, end: StreamEnd): Completion | undefined {
    const finished = this.rawFinishReason !== undefined || (this.chunks > 0 && (end === "done" || this.usageSeen));
    if (!finished) return undefined;
    if (this.rawFinishReason === "error") throw finishedWithError();
    const toolCalls = this.calls
      .filter((call) => call !== undefined)
      .map((call, index): ToolCall => {
        if (!call.name) throw new MalformedReplyError(`streamed tool call ${index} has no function name`);
        return toolCall(call.id || fallbackCallId(index), call.name, call.arguments, call.extra);
      });
    const content = this.content === "" && toolCalls.length > 0 ? null : this.content;
    return {
      message: assistantMessage(content, toolCalls, this.reasoningContent, this.reasoning),
      finishReason: toFinishReason(this.rawFinishReason ?? (toolCalls.length > 0 ? "tool_calls" : "stop"), toolCalls.length > 0),
      usage: this.usage,
      id: this.id,
      model: this.model || requestedModel,
    };
  }
}

/** What reading a stream reports as it goes. */
export interface StreamHooks {
  /** Bytes arrived (the silence timer restarts). */
  readonly onBytes: () => void;
  /** Text for the user arrived. */
  readonly onText: (text: string) => void;
}

/**
 * Reads an SSE body into `accumulator` until `[DONE]` or the end of the body. Throws ReplyError
 * for an error event or chunk, SyntaxError for data that is not JSON, and whatever reading the
 * body throws (a dropped connection).
 */
export async function readCompletionStream(body: ReadableStream<Uint8Array>, accumulator: StreamAccumulator, hooks: StreamHooks): Promise<StreamEnd> {
  let done = false;
  const decoder = new SseDecoder((event, data) => {
    if (done) return;
    // `data: [DONE] ` with trailing whitespace is still the end (length check: no trim per chunk).
    if (data.length < 32 && data.trim() === "[DONE]") {
      done = true;
      return;
    }
    if (event === "error") throw errorEvent(data);
    const piece = accumulator.add(JSON.parse(data));
    if (piece !== "") hooks.onText(piece);
  });
  const utf8 = new TextDecoder();
  for await (const bytes of body) {
    hooks.onBytes();
    decoder.push(utf8.decode(bytes, { stream: true }));
    // Leaving the loop cancels the body: nothing after [DONE] is read or waited for.
    if (done) return "done";
  }
  decoder.push(utf8.decode());
  decoder.end();
  return done ? "done" : "eof";
}

/** The error an `event: error` carries: its JSON error object, or its text when it is not JSON. */
function errorEvent(data: string): ReplyError {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return new ReplyError(data.trim().slice(0, 300) || "the provider reported an error", undefined, undefined, undefined);
  }
  return (isRecord(json) && replyErrorOf(json, true)) || new ReplyError(`an error event with ${describe(json)}`, undefined, undefined, undefined);
}
