import { emptyUsage, type AssistantMessage, type ToolCall, type Usage } from "../../src/model/messages.ts";
import type { Model, ModelRequest, ModelResponse } from "../../src/model/model.ts";

/**
 * One scripted reply: a final text, tool calls, an error to throw, or a function of the request.
 * `until` holds the answer back until the promise settles (a test's latch), so a test decides
 * when a call in flight ends instead of guessing with a delay.
 */
export type ScriptedReply =
  | { readonly text: string; readonly usage?: Partial<Usage>; readonly until?: PromiseLike<unknown> }
  | { readonly toolCalls: readonly ToolCall[]; readonly usage?: Partial<Usage>; readonly until?: PromiseLike<unknown> }
  | { readonly error: Error }
  | { readonly hang: true }
  | ((request: ModelRequest) => ScriptedReply);

/** A Model that replays a script, one entry per call, and records every request. */
export interface ScriptedModel extends Model {
  readonly requests: ModelRequest[];
  /** Resolves once the model's `n`th call (1-based) has begun: from then on that run is in flight. */
  started(n: number): Promise<void>;
}

/** A promise and the function that resolves it: a test opens it when the awaited thing may happen. */
export interface Latch {
  readonly promise: Promise<void>;
  readonly open: () => void;
}

/** A closed latch. */
export function latch(): Latch {
  const { promise, resolve } = Promise.withResolvers<void>();
  return { promise, open: () => resolve() };
}

/**
 * A fake `Model` for loop tests: no network, deterministic. It throws when the script runs out,
 * so a test that makes an unexpected call fails loudly.
 *
 * @example
 * const model = scriptedModel([{ toolCalls: [call("c1", "calc", { expression: "1+1" })] }, { text: "2" }]);
 */
export function scriptedModel(script: readonly ScriptedReply[]): ScriptedModel {
  const requests: ModelRequest[] = [];
  // calls[n - 1] opens when call n begins; made on demand, so started(n) may come before or after.
  const calls: Latch[] = [];
  const callLatch = (n: number) => {
    while (calls.length < n) calls.push(latch());
    return calls[n - 1]!;
  };
  return {
    name: "scripted",
    provider: "test",
    requests,
    started: (n) => callLatch(n).promise,
    async complete(request) {
      requests.push({ ...request, messages: [...request.messages] });
      callLatch(requests.length).open();
      const scripted = script[requests.length - 1];
      if (scripted === undefined) throw new Error(`scripted model: no reply scripted for call ${requests.length}`);
      let reply: ScriptedReply = scripted;
      while (typeof reply === "function") reply = reply(request);
      if ("error" in reply) throw reply.error;
      if ("hang" in reply) {
        return new Promise<ModelResponse>((_, reject) => {
          request.signal.addEventListener("abort", () => reject(request.signal.reason), { once: true });
        });
      }
      if (reply.until) await reply.until;
      const message: AssistantMessage =
        "text" in reply
          ? { role: "assistant", content: reply.text }
          : { role: "assistant", content: null, tool_calls: reply.toolCalls };
      if ("text" in reply && request.onDelta) request.onDelta(reply.text);
      const response: ModelResponse = {
        message,
        usage: { ...emptyUsage, inputTokens: 10, outputTokens: 5, ...reply.usage },
        finishReason: "text" in reply ? "stop" : "tool_calls",
        id: `scripted-${requests.length}`,
        model: "scripted",
        provider: "test",
      };
      request.spans?.startChat({ model: "scripted", provider: "test", stream: false, attempt: 1, messages: request.messages, tools: request.tools }).end(response);
      return response;
    },
  };
}

/** Builds a tool call with JSON-encoded arguments. */
export function call(id: string, name: string, args: unknown): ToolCall {
  return { id, name, arguments: typeof args === "string" ? args : JSON.stringify(args) };
}
