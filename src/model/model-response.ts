/**
 * What one model call returns. Its own file, below both model.ts and the tracing port
 * (telemetry/tracer.ts, whose chat spans end with it), so those two need not import each other.
 */
import type { AssistantMessage, Usage } from "./messages.ts";

/** Why the model stopped, normalised over providers. */
export type ModelFinishReason = "stop" | "tool_calls" | "length" | "content_filter" | "other";

/** One model call's answer, normalised over providers. */
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
