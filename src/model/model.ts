import type { ChatSpanFactory } from "../telemetry/tracer.ts";
import type { AssistantMessage, Message, Usage } from "./messages.ts";

/** A JSON Schema object, as sent to the model for a tool's parameters. */
export type JsonSchema = { readonly [key: string]: unknown };

/** What the model is told about one tool. */
export interface ToolSpec {
  readonly name: string;
  readonly description: string;
  readonly parameters: JsonSchema;
}

/** Why the model stopped, normalised over providers. */
export type ModelFinishReason = "stop" | "tool_calls" | "length" | "content_filter" | "other";

export interface ModelRequest {
  readonly messages: readonly Message[];
  readonly tools: readonly ToolSpec[];
  /** Aborts the request: run timeout, Ctrl-C, client gone, shutdown. */
  readonly signal: AbortSignal;
  /** Epoch ms after which no attempt or retry wait may start (the run's deadline). */
  readonly deadline?: number;
  /** When set, the model streams and text deltas arrive here as they come. */
  readonly onDelta?: (text: string) => void;
  /** Opens one `chat` span per attempt; retries and fallbacks each get their own. */
  readonly spans?: ChatSpanFactory;
}

export interface ModelResponse {
  readonly message: AssistantMessage;
  readonly usage: Usage;
  readonly finishReason: ModelFinishReason;
  /** The provider's response id, when it gives one. */
  readonly id: string | undefined;
  /** The model that actually answered (may differ from the one requested). */
  readonly model: string;
  /** Which configured provider answered (matters with fallbacks). */
  readonly provider: string;
}

/** The port the agent loop talks to. Adapters: openai.ts, demo.ts, fallback.ts. */
export interface Model {
  /** The model name as configured, e.g. `gpt-4.1-mini`. */
  readonly name: string;
  /** `gen_ai.provider.name`, e.g. `openai`, or `skiff.demo`. */
  readonly provider: string;
  /**
   * True when `complete` settles as soon as the request's signal aborts (it passes the signal to
   * its request and its retry waits). The loop then need not race the call against the signal, a
   * promise, closures and a listener per call. Unset: the loop races it, so a model that ignores
   * its signal still cannot hold a run past its deadline.
   */
  readonly settlesOnAbort?: boolean;
  complete(request: ModelRequest): Promise<ModelResponse>;
}
