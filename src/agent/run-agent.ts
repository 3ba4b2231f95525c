import { SkiffError } from "../errors.ts";
import { addUsage, emptyUsage, type Message, type ToolCall, type ToolMessage, type Usage } from "../model/messages.ts";
import type { Model, ModelFinishReason, ModelResponse, ToolSpec } from "../model/model.ts";
import { noopTracer, type RunSpan, type Tracer } from "../telemetry/tracer.ts";
import type { Tool } from "../tools/tool.ts";
import { raceAbort } from "../util/abort.ts";
import { CancelReason, DeadlineReached, RunCancelledError, type RunError, RunModelError, RunTimeoutError } from "./errors.ts";
import type { AgentEvent, AgentEventListener } from "./events.ts";
import { fitContext } from "./context-window.ts";
import { executeToolCall } from "./execute-tool-call.ts";
import type { FinishReason, RunResult, Step, ToolCallRecord } from "./result.ts";
import { scheduleToolCalls } from "./schedule-tool-calls.ts";

/** Bounds of one run. */
export interface RunLimits {
  /** Most model calls in one run. */
  readonly maxSteps: number;
  /** Whole-run deadline in ms; 0 or undefined for none. */
  readonly timeoutMs?: number;
  /** Per tool call, joined with the run's signal. */
  readonly toolTimeoutMs: number;
  /** Bytes of a tool's output the model sees; the rest is cut with a marker. */
  readonly toolOutputLimit: number;
  /** Most tool calls of one step running at once (default: no limit). */
  readonly maxParallelTools?: number;
  /** Token budget (input + output summed over steps); crossing it ends the run with `budget`. */
  readonly maxTokens?: number;
  /** Cost budget in USD; needs `price`. Crossing it ends the run with `budget`. */
  readonly maxCostUsd?: number;
  /** Approximate tokens of history sent to the model (see fitContext). */
  readonly maxContextTokens?: number;
}

/** Prices one model call in USD, or undefined when the model has no price. */
export type PriceFunction = (model: string, usage: Usage) => number | undefined;

export interface RunOptions {
  readonly model: Model;
  readonly tools: readonly Tool[];
  /** The conversation so far, ending with the new user message. */
  readonly messages: readonly Message[];
  readonly limits: RunLimits;
  /** Cancels the run: Ctrl-C, a client that disconnects, shutdown. */
  readonly signal?: AbortSignal;
  readonly tracer?: Tracer;
  readonly onEvent?: AgentEventListener;
  /** Ask the model to stream, so `model.delta` events arrive as text is written. */
  readonly stream?: boolean;
  readonly agentName?: string;
  /** A real session id, for `gen_ai.conversation.id`. */
  readonly conversationId?: string;
  /** W3C traceparent of whoever started the run. */
  readonly traceparent?: string;
  /** Prices model calls for `costUsd` and the cost budget. */
  readonly price?: PriceFunction;
  readonly now?: () => number;
}

/** What to do after a model call. */
type NextStep =
  | { readonly type: "final"; readonly finishReason: FinishReason; readonly output: string }
  | { readonly type: "run_tools" }
  | { readonly type: "max_steps" }
  | { readonly type: "budget"; readonly budget: "tokens" | "cost" };

/**
 * Runs the agent loop: ask the model, run every tool call of the step at once, feed the results
 * back, until the model answers or a limit is hit. Tool faults go back to the model as `error:`
 * messages; model failures, the deadline and cancellation end the run with a typed error.
 */
export async function runAgent(options: RunOptions): Promise<RunResult> {
  const now = options.now ?? performance.now.bind(performance);
  const tracer = options.tracer ?? noopTracer;
  const { model, limits } = options;
  const runStart = now();
  const deadline = limits.timeoutMs ? Date.now() + limits.timeoutMs : undefined;

  const controller = new AbortController();
  const signal = controller.signal;
  const timer = limits.timeoutMs ? setTimeout(() => controller.abort(new DeadlineReached()), limits.timeoutMs) : undefined;
  const parent = options.signal;
  const forwardAbort = () => controller.abort(parent?.reason);
  if (parent?.aborted) forwardAbort();
  else parent?.addEventListener("abort", forwardAbort, { once: true });

  const { toolsByName, toolSpecs } = toolIndex(options.tools);
  const messages: Message[] = [...options.messages];
  const steps: Step[] = [];
  // The step whose tools are running, so a run that fails mid-step still reports its model call
  // and the tool calls that finished.
  let stepInProgress: (() => Step) | undefined;
  const emit = safeEmitter(options.onEvent);

  const span = tracer.startRun({
    agentName: options.agentName ?? "skiff",
    requestModel: model.name,
    input: options.messages,
    tools: toolSpecs,
    ...(options.conversationId === undefined ? {} : { conversationId: options.conversationId }),
    ...(options.traceparent === undefined ? {} : { traceparent: options.traceparent }),
  });

  const snapshot = (finishReason: FinishReason, output: string, budget?: "tokens" | "cost"): RunResult => ({
    output,
    messages,
    inputMessageCount: options.messages.length,
    steps,
    usage: totalUsage(steps),
    costUsd: totalCost(steps, options.price),
    finishReason,
    ...(budget === undefined ? {} : { budget }),
    traceId: span.traceId,
    durationMs: now() - runStart,
  });

  try {
    for (let index = 1; ; index++) {
      emit({ type: "step.started", step: index });
      const stepStart = now();
      const response = await callModel(options, { messages, toolSpecs, signal, deadline, span, step: index, emit });
      const modelDurationMs = now() - stepStart;
      messages.push(response.message);
      const finished: ToolCallRecord[] = [];
      const stepOf = (toolCalls: readonly ToolCallRecord[]): Step => ({
        index,
        model: response.model,
        provider: response.provider,
        responseId: response.id,
        finishReason: response.finishReason,
        usage: response.usage,
        startMs: stepStart - runStart,
        modelDurationMs,
        durationMs: now() - stepStart,
        toolCalls,
      });
      stepInProgress = () => stepOf([...finished].sort((a, b) => a.startMs - b.startMs));

      const calls = response.message.tool_calls ?? [];
      // A final answer is kept even when it crossed a budget; the budget stops only further steps.
      const overBudget =
        calls.length > 0 &&
        crossedBudget([...steps.map((s) => s.usage), response.usage], limits, () =>
          totalCost([...steps, { model: response.model, usage: response.usage }], options.price),
        );
      const toolCalls = overBudget
        ? calls.map((call) => notRun(call, `not run: the run's ${overBudget === "tokens" ? "token" : "cost"} budget was reached`, now() - runStart))
        : await raceAbort(
            scheduleToolCalls(
              calls,
              {
                maxParallel: limits.maxParallelTools ?? Number.POSITIVE_INFINITY,
                isSerial: (call) => toolsByName.get(call.name)?.parallel === false,
              },
              async (call) => {
                const record = await executeToolCall(call, {
                  tools: toolsByName,
                  runSignal: signal,
                  timeoutMs: limits.toolTimeoutMs,
                  outputLimit: limits.toolOutputLimit,
                  span,
                  step: index,
                  runStart,
                  now,
                  emit,
                });
                finished.push(record);
                return record;
              },
            ),
            signal,
          );
      // Results go back in the model's order, whatever order they finished in.
      for (const record of toolCalls) {
        messages.push({ role: "tool", tool_call_id: record.id, content: record.output } satisfies ToolMessage);
      }
      steps.push(stepOf(toolCalls));
      stepInProgress = undefined;

      const next: NextStep = overBudget ? { type: "budget", budget: overBudget } : decideNextStep(response, index, limits.maxSteps);
      switch (next.type) {
        case "run_tools":
          continue;
        case "final":
        case "max_steps":
        case "budget": {
          const result =
            next.type === "final"
              ? snapshot(next.finishReason, next.output)
              : next.type === "budget"
                ? snapshot("budget", "", next.budget)
                : snapshot("max_steps", "");
          span.end({
            usage: result.usage,
            finishReason: result.finishReason,
            output: result.output,
            ...(result.costUsd === undefined ? {} : { costUsd: result.costUsd }),
          });
          emit({ type: "run.completed", result });
          return result;
        }
        default: {
          const unreachable: never = next;
          throw new Error(`unhandled next step ${JSON.stringify(unreachable)}`);
        }
      }
    }
  } catch (error) {
    if (stepInProgress) steps.push(stepInProgress());
    const failure = toRunError(error, signal, limits.timeoutMs ?? 0, snapshot("stop", ""));
    const cost = failure.partial.costUsd;
    span.end({ usage: failure.partial.usage, finishReason: "error", error: failure, ...(cost === undefined ? {} : { costUsd: cost }) });
    emit({ type: "run.failed", error: failure });
    throw failure;
  } finally {
    clearTimeout(timer);
    parent?.removeEventListener("abort", forwardAbort);
  }
}

interface ToolIndex {
  readonly toolsByName: ReadonlyMap<string, Tool>;
  readonly toolSpecs: readonly ToolSpec[];
}

/** A service passes the same tools array to every run: index it once, not per run. */
const toolIndexes = new WeakMap<readonly Tool[], ToolIndex>();

function toolIndex(tools: readonly Tool[]): ToolIndex {
  let index = toolIndexes.get(tools);
  if (!index) {
    index = {
      toolsByName: new Map(tools.map((tool) => [tool.name, tool] as const)),
      toolSpecs: tools.map(({ name, description, parameters }) => ({ name, description, parameters })),
    };
    toolIndexes.set(tools, index);
  }
  return index;
}

function totalUsage(steps: readonly { readonly usage: Usage }[]): Usage {
  return steps.reduce<Usage>((sum, step) => addUsage(sum, step.usage), emptyUsage);
}

function totalCost(steps: readonly { readonly model: string; readonly usage: Usage }[], price: PriceFunction | undefined): number | undefined {
  if (!price) return undefined;
  let sum = 0;
  for (const step of steps) {
    const cost = price(step.model, step.usage);
    if (cost === undefined) return undefined;
    sum += cost;
  }
  return sum;
}

/** Which budget the usage so far has crossed, if any. The cost is computed only when needed. */
function crossedBudget(usages: readonly Usage[], limits: RunLimits, cost: () => number | undefined): "tokens" | "cost" | undefined {
  if (limits.maxTokens !== undefined) {
    const used = usages.reduce((n, u) => n + u.inputTokens + u.outputTokens, 0);
    if (used > limits.maxTokens) return "tokens";
  }
  if (limits.maxCostUsd !== undefined) {
    const spent = cost();
    if (spent !== undefined && spent > limits.maxCostUsd) return "cost";
  }
  return undefined;
}

/** A tool call the loop chose not to run; the model (in a later session turn) is told why. */
function notRun(call: ToolCall, reason: string, atMs: number): ToolCallRecord {
  return { id: call.id, name: call.name, arguments: call.arguments, ok: false, output: `error: ${reason}`, startMs: atMs, durationMs: 0 };
}

function decideNextStep(response: ModelResponse, index: number, maxSteps: number): NextStep {
  const wantsTools = (response.message.tool_calls?.length ?? 0) > 0;
  if (!wantsTools) {
    return { type: "final", finishReason: finishReasonOf(response.finishReason), output: response.message.content ?? "" };
  }
  // The tools of the last allowed step have run, so the history stays valid to continue later.
  return index >= maxSteps ? { type: "max_steps" } : { type: "run_tools" };
}

function finishReasonOf(reason: ModelFinishReason): FinishReason {
  return reason === "length" || reason === "content_filter" ? reason : "stop";
}

interface ModelCallContext {
  readonly messages: readonly Message[];
  readonly toolSpecs: readonly ToolSpec[];
  readonly signal: AbortSignal;
  readonly deadline: number | undefined;
  readonly span: RunSpan;
  readonly step: number;
  readonly emit: (event: AgentEvent) => void;
}

function callModel(options: RunOptions, context: ModelCallContext): Promise<ModelResponse> {
  const { step, emit } = context;
  const maxContext = options.limits.maxContextTokens;
  const request = {
    messages: maxContext === undefined ? context.messages : fitContext(context.messages, maxContext),
    tools: context.toolSpecs,
    signal: context.signal,
    spans: context.span,
    ...(context.deadline === undefined ? {} : { deadline: context.deadline }),
    ...(options.stream ? { onDelta: (text: string) => emit({ type: "model.delta", step, text }) } : {}),
  };
  const pending = options.model.complete(request);
  return options.model.settlesOnAbort ? pending : raceAbort(pending, context.signal);
}

function toRunError(error: unknown, signal: AbortSignal, timeoutMs: number, partial: RunResult): RunError {
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof DeadlineReached) return new RunTimeoutError(timeoutMs, partial);
    const why = reason instanceof CancelReason ? reason.reason : "the caller aborted it";
    return new RunCancelledError(why, partial, { cause: reason });
  }
  if (error instanceof SkiffError) return new RunModelError(error, partial);
  // Anything else is a bug in skiff or a tool adapter: keep it, with what the run had done.
  return new RunModelError(
    new SkiffError("internal_error", `Internal error: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    }),
    partial,
  );
}

function safeEmitter(listener: AgentEventListener | undefined): (event: AgentEvent) => void {
  if (!listener) return () => {};
  return (event) => {
    try {
      listener(event);
    } catch {
      // A listener (a closed SSE stream, a broken pipe) must not break the run it observes.
    }
  };
}
