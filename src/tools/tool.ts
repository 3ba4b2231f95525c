import type { JsonSchema } from "../model/model.ts";
import { SkiffError } from "../errors.ts";

/** What a tool receives besides its arguments. */
export interface ToolContext {
  /** The run's signal joined with this call's timeout: stop work when it aborts. */
  readonly signal: AbortSignal;
  /** The model's id for this call. */
  readonly callId: string;
  /** W3C traceparent of this call's span, for tools that make HTTP requests. */
  readonly traceparent?: string;
}

/** The port the agent loop runs. `execute` validates its arguments itself. */
export interface Tool {
  /** Name the model calls it by: `[A-Za-z0-9_-]{1,64}`. */
  readonly name: string;
  readonly description: string;
  /** JSON Schema of the arguments object, sent to the model. */
  readonly parameters: JsonSchema;
  /** `gen_ai.tool.type`: `function` (runs here) or `extension` (calls out to a service). */
  readonly type: "function" | "extension";
  /** Where the tool comes from, for `skiff tools list`: `builtin`, `http`, `command`, `mcp:<server>`. */
  readonly source: string;
  /**
   * This tool's own deadline in ms, when its config sets one (`timeout` of a declared tool). The
   * tool enforces it itself; a caller that arms a general timeout should use this one instead.
   */
  readonly timeoutMs?: number;
  /**
   * False for tools that must not overlap (mutating ones): within a step they run one at a time,
   * in the model's order. Default true.
   */
  readonly parallel?: boolean;
  /**
   * True when the tool's promise settles as soon as its context's signal aborts (it passes the
   * signal to everything it waits on). The loop then need not race the call against the signal,
   * which costs a promise, closures and a listener per call. Leave it unset when unsure: a tool
   * that ignores its signal is still cut off at its deadline that way.
   */
  readonly settlesOnAbort?: boolean;
  /**
   * True when running the call twice has the same effect as once (a read, a lookup, a PUT of the
   * same content). A durable run whose process died while such a call was in flight runs it again
   * on recovery; any other interrupted call is reported to the model as "may or may not have
   * taken effect" instead. Default false.
   */
  readonly idempotent?: boolean;
  /**
   * Runs the tool. Throws ToolInputError when `args` do not fit `parameters`; any other throw is a
   * failure of the tool. The result is a string (sent as-is) or anything JSON-serialisable.
   */
  execute(args: unknown, context: ToolContext): Promise<unknown>;
}

/** The model's arguments do not fit the tool's schema. The message lists every problem with its path. */
export class ToolInputError extends SkiffError {
  constructor(message: string) {
    super("tool_input_invalid", message);
  }
}

/** The tool ran and failed in a way the model should hear about (bad input value, upstream error). */
export class ToolFailure extends SkiffError {
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? "tool_failed", message, options);
  }
}

/** A tool name the model APIs accept. */
export const toolNamePattern = /^[A-Za-z0-9_-]{1,64}$/;
