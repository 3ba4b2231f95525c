import type { ToolCall } from "../model/messages.ts";
import type { RunSpan } from "../telemetry/tracer.ts";
import { type Tool, ToolInputError } from "../tools/tool.ts";
import { raceAbort } from "../util/abort.ts";
import { deadline } from "../util/deadline.ts";
import { formatDuration } from "../util/duration.ts";
import { truncateUtf8 } from "../util/truncate.ts";
import type { AgentEventListener } from "./events.ts";
import type { ToolCallRecord } from "./result.ts";

export interface ToolCallContext {
  readonly tools: ReadonlyMap<string, Tool>;
  readonly runSignal: AbortSignal;
  readonly timeoutMs: number;
  readonly outputLimit: number;
  readonly span: RunSpan;
  readonly step: number;
  readonly runStart: number;
  readonly now: () => number;
  readonly emit: AgentEventListener;
}

/** Why a tool call gave the model an error instead of a result; becomes `error.type` on its span. */
type ToolErrorType = "tool_not_found" | "invalid_json" | "invalid_arguments" | "timeout" | "tool_error";

class ToolCallFailed {
  constructor(readonly errorType: ToolErrorType, readonly message: string, readonly cause?: unknown) {}
}

/**
 * Runs one tool call to completion and never throws for the tool's own faults: every way a call
 * can go wrong becomes an `error: …` text for the model. It throws only when the whole run is
 * aborted, so the loop can end the run.
 */
export async function executeToolCall(call: ToolCall, context: ToolCallContext): Promise<ToolCallRecord> {
  const startedAt = context.now();
  context.emit({ type: "tool.started", step: context.step, callId: call.id, name: call.name, arguments: call.arguments });
  const tool = context.tools.get(call.name);
  const span = context.span.startTool({
    name: call.name,
    callId: call.id,
    description: tool?.description ?? "",
    type: tool?.type ?? "function",
    arguments: call.arguments,
  });

  let output: string;
  let ok = true;
  try {
    // Yield once so every call of the step has started (span open, timeout armed) before any
    // tool's synchronous work runs: a CPU-heavy tool must not delay its siblings' start.
    await undefined;
    const result = await invoke(call, tool, context, span.traceparent);
    output = truncateUtf8(typeof result === "string" ? result : (JSON.stringify(result) ?? "null"), context.outputLimit);
    span.end(output);
  } catch (error) {
    if (context.runSignal.aborted) {
      // The run is ending: its end closes this span with the run's own error (cancelled, timed
      // out). Failing it here would race that, and which came first would decide error.type.
      throw context.runSignal.reason;
    }
    const failure = error instanceof ToolCallFailed ? error : new ToolCallFailed("tool_error", describe(error), error);
    ok = false;
    output = truncateUtf8(`error: ${failure.message}`, context.outputLimit);
    span.fail(failure.cause ?? new Error(failure.message), failure.errorType);
  }

  const durationMs = context.now() - startedAt;
  context.emit({ type: "tool.finished", step: context.step, callId: call.id, name: call.name, ok, output, durationMs });
  return {
    id: call.id,
    name: call.name,
    arguments: call.arguments,
    ok,
    output,
    startMs: startedAt - context.runStart,
    durationMs,
  };
}

async function invoke(
  call: ToolCall,
  tool: Tool | undefined,
  context: ToolCallContext,
  traceparent: string | undefined,
): Promise<unknown> {
  if (!tool) {
    const known = [...context.tools.keys()].join(", ") || "(none)";
    throw new ToolCallFailed(
      "tool_not_found",
      `there is no tool named "${call.name}". Available tools: ${known}. Call one of those by its exact name.`,
    );
  }
  let args: unknown;
  try {
    // Some models send "" for a tool without parameters; that means "no arguments".
    args = call.arguments.trim() === "" ? {} : JSON.parse(call.arguments);
  } catch (error) {
    throw new ToolCallFailed(
      "invalid_json",
      `the arguments for tool "${call.name}" are not valid JSON (${describe(error)}). Send one JSON object matching the tool's parameters schema.`,
    );
  }

  // A tool with its own deadline (`timeout` of a declared tool) enforces it itself, with a message
  // naming its setting; the others get tool_timeout here. One timer and one signal per call: at
  // 10,000 sessions with three tools each, every extra AbortSignal costs ~300 B of live heap.
  const ownDeadline = tool.timeoutMs !== undefined;
  const timeoutMs = tool.timeoutMs ?? context.timeoutMs;
  const callDeadline = ownDeadline ? undefined : deadline(context.runSignal, timeoutMs);
  const signal = callDeadline?.signal ?? context.runSignal;
  try {
    const callContext = traceparent === undefined ? { signal, callId: call.id } : { signal, callId: call.id, traceparent };
    const pending = tool.execute(args, callContext);
    return await (tool.settlesOnAbort ? pending : raceAbort(pending, signal));
  } catch (error) {
    if (context.runSignal.aborted) throw error;
    if (callDeadline?.timedOut()) {
      throw new ToolCallFailed(
        "timeout",
        `tool "${call.name}" did not finish within ${formatDuration(timeoutMs)} and was stopped.`,
        error,
      );
    }
    if (error instanceof ToolInputError) {
      throw new ToolCallFailed(
        "invalid_arguments",
        `invalid arguments for tool "${call.name}": ${error.message}. Fix them to match the tool's parameters schema and call it again.`,
        error,
      );
    }
    throw new ToolCallFailed("tool_error", `tool "${call.name}" failed: ${describe(error)}`, error);
  } finally {
    callDeadline?.dispose();
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
