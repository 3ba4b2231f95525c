import type { ChatSpanFactory } from "../telemetry/tracer.ts";
import type { Message } from "./messages.ts";
import type { ModelResponse } from "./model-response.ts";
import type { JsonSchema, ToolSpec } from "./tool-spec.ts";

// The types a model call is made of live in their own files, which the tracing port imports too;
// re-exported here so the Model port is one import.
export type { JsonSchema, ToolSpec } from "./tool-spec.ts";
export type { ModelFinishReason, ModelResponse } from "./model-response.ts";

/** One call to the model: the conversation so far, the tools it may call, and how to stop it. */
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
  /** Asks for a final answer in this shape (OpenAI's `response_format`); the caller still checks it. */
  readonly responseFormat?: ResponseFormat;
}

/** A JSON answer valid against `schema`, asked of the model as `response_format: {type: "json_schema"}`. */
export interface ResponseFormat {
  readonly type: "json_schema";
  /** Letters, digits, `_` and `-`, at most 64. */
  readonly name: string;
  readonly schema: JsonSchema;
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
