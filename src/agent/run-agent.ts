import { SkiffError, SystemError } from "../errors.ts";
import { emptyUsage, type Message, type ToolMessage, type Usage } from "../model/messages.ts";
import type { Model, ModelFinishReason, ModelResponse } from "../model/model.ts";
import { noopTracer, type Tracer } from "../telemetry/tracer.ts";
import type { Tool } from "../tools/tool.ts";
import { raceAbort } from "../util/abort.ts";
import {
  CancelReason,
  DeadlineReached,
  RunCancelledError,
  type RunError,
  RunJournalError,
  RunModelError,
  RunSystemError,
  RunTimeoutError,
} from "./errors.ts";
import type { AgentEventListener } from "./events.ts";
import { fitContext } from "./context-window.ts";
import type { ApprovalGate } from "./approval.ts";
import { checkAnswer, type OutputSchema } from "./output-schema.ts";
import { type JournalledStep, JournalWriteFailed, type ResumePoint, type RunJournal } from "./journal.ts";
import type { FinishReason, PendingApproval, RunResult, Step } from "./result.ts";
import { type ModelCallInProgress, notRun, RunContext, safeEmitter, type StepInProgress, toolIndex } from "./run-context.ts";
import { journalWrite, runToolCalls } from "./run-tool-calls.ts";

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
  /** Where each model response and tool result is recorded before the loop goes on (durable runs). */
  readonly journal?: RunJournal;
  /** Decides on calls of tools that need a person's approval (`tools.require_approval`). */
  readonly approvals?: ApprovalGate;
  /** The final answer must be JSON valid against this schema (structured output). */
  readonly outputSchema?: OutputSchema;
  /**
   * An earlier attempt's journal: its steps are taken as done (no model call is repeated, no
   * finished tool call is run again) and the run continues after them.
   */
  readonly resume?: ResumeOptions;
}

/** How a resumed run continues. */
export interface ResumeOptions {
  readonly point: ResumePoint;
  /** Time since the run was first accepted, in ms: step times stay relative to that start. */
  readonly elapsedMs: number;
  /** The trace the first attempt's spans went to, and which attempt and replica this is. */
  readonly traceId?: string;
  readonly attempt: number;
  readonly replica: string;
}

/** What to do after a step. */
type NextStep =
  | { readonly type: "final"; readonly finishReason: FinishReason; readonly output: string }
  | { readonly type: "run_again" }
  | { readonly type: "max_steps" }
  | { readonly type: "budget"; readonly budget: "tokens" | "cost" }
  | { readonly type: "requires_action"; readonly pending: readonly PendingApproval[] };

/**
 * Runs the agent loop: ask the model, run every tool call of the step at once, feed the results
 * back, until the model answers or a limit is hit. Tool faults go back to the model as `error:`
 * messages; model failures, the deadline and cancellation end the run with a typed error.
 */
export async function runAgent(options: RunOptions): Promise<RunResult> {
  const now = options.now ?? performance.now.bind(performance);
  const tracer = options.tracer ?? noopTracer;
  const { limits, resume } = options;
  const runStart = now() - (resume?.elapsedMs ?? 0);
  const deadline = limits.timeoutMs ? Date.now() + limits.timeoutMs : undefined;

  const controller = new AbortController();
  const signal = controller.signal;
  const timer = limits.timeoutMs ? setTimeout(() => controller.abort(new DeadlineReached()), limits.timeoutMs) : undefined;
  const parent = options.signal;
  const forwardAbort = () => controller.abort(parent?.reason);
  if (parent?.aborted) forwardAbort();
  else parent?.addEventListener("abort", forwardAbort, { once: true });

  const index = toolIndex(options.tools);
  const span = tracer.startRun({
    agentName: options.agentName ?? "skiff",
    requestModel: options.model.name,
    input: options.messages,
    tools: index.toolSpecs,
    ...(options.conversationId === undefined ? {} : { conversationId: options.conversationId }),
    ...(options.traceparent === undefined ? {} : { traceparent: options.traceparent }),
    ...(resume?.traceId === undefined ? {} : { traceId: resume.traceId }),
    ...(resume === undefined ? {} : { resumed: { attempt: resume.attempt, replica: resume.replica } }),
  });
  const run = new RunContext(options, index, signal, deadline, span, safeEmitter(options.onEvent), now, runStart);
  const journalled = resume?.point.steps ?? [];
  run.emit({ type: "run.started", traceId: span.traceId });

  try {
    for (let step = 1; ; step++) {
      const next = await runStep(run, step, journalled[step - 1]);
      switch (next.type) {
        case "run_again":
          continue;
        case "final": {
          const checked = checkOutput(run, next, step);
          if (checked === "correct") continue;
          return finish(run, checked);
        }
        case "budget":
          return finish(run, run.snapshot("budget", "", next.budget));
        case "max_steps":
          return finish(run, run.snapshot("max_steps", ""));
        case "requires_action":
          return finish(run, { ...run.snapshot("requires_action", ""), pendingApprovals: next.pending });
        default: {
          const unreachable: never = next;
          throw new Error(`unhandled next step ${JSON.stringify(unreachable)}`);
        }
      }
    }
  } catch (error) {
    const step = run.inProgress;
    if (step) run.steps.push(run.stepOf(step, [...step.finished].sort((a, b) => a.startMs - b.startMs)));
    const calling = run.calling;
    if (calling) run.steps.push(unfinishedModelStep(run, calling));
    // What the model had said when the run stopped: the text it was streaming, or the answer it
    // gave (a run whose journal could not record its final answer still reports that answer).
    const said = calling?.text ?? (step && !step.response.message.tool_calls?.length ? (step.response.message.content ?? "") : "");
    const failure = toRunError(error, signal, limits.timeoutMs ?? 0, (reason) => run.snapshot(reason, said));
    const cost = failure.partial.costUsd;
    span.end({ usage: failure.partial.usage, finishReason: "error", error: failure, ...(cost === undefined ? {} : { costUsd: cost }) });
    run.emit({ type: "run.failed", error: failure });
    throw failure;
  } finally {
    clearTimeout(timer);
    parent?.removeEventListener("abort", forwardAbort);
  }
}

/**
 * The result of a final answer, or "correct" after adding a corrective turn (one more step) for an
 * answer that does not match the output schema. A resumed run passes here again for each
 * journalled step, so its corrective messages are rebuilt as they were.
 */
function checkOutput(run: RunContext, final: Extract<NextStep, { type: "final" }>, step: number): RunResult | "correct" {
  const schema = run.options.outputSchema;
  // A cut or filtered answer already has its own finish reason; checking it would only add noise.
  if (!schema || final.finishReason !== "stop") return run.snapshot(final.finishReason, final.output);
  const check = checkAnswer(schema, final.output, run.corrections < schema.retries && step < run.options.limits.maxSteps);
  switch (check.type) {
    case "valid":
      return { ...run.snapshot("stop", final.output), outputJson: check.value };
    case "correct":
      run.corrections++;
      run.messages.push(check.message);
      return "correct";
    case "invalid":
      return { ...run.snapshot("output_schema", final.output), outputSchemaErrors: check.errors };
  }
}

function finish(run: RunContext, result: RunResult): RunResult {
  run.span.end({
    usage: result.usage,
    finishReason: result.finishReason,
    output: result.output,
    ...(result.costUsd === undefined ? {} : { costUsd: result.costUsd }),
  });
  run.emit({ type: "run.completed", result });
  return result;
}

/**
 * One step: the model's answer (asked for now, or taken from the journal of an earlier attempt),
 * then its tool calls, all at once. Returns what to do next.
 */
async function runStep(run: RunContext, index: number, journalled: JournalledStep | undefined): Promise<NextStep> {
  const { options, messages } = run;
  let startedAt: number;
  let modelDurationMs: number;
  let response: ModelResponse;
  let modelWrite: Promise<void> | undefined;
  if (journalled) {
    response = journalled.model.response;
    startedAt = run.runStart + journalled.model.startMs;
    modelDurationMs = journalled.model.durationMs;
  } else {
    run.emit({ type: "step.started", step: index });
    startedAt = run.now();
    run.calling = { index, startedAt, text: "" };
    response = await callModel(run, index);
    run.calling = undefined;
    modelDurationMs = run.now() - startedAt;
    if (options.journal) {
      // Not awaited here: the step's tool starts are written in the same transaction when there
      // are any, and the journal keeps its order, so no tool starts before the answer is stored.
      // Awaited at the end of the step either way.
      modelWrite = journalWrite(options.journal.modelResponded({ step: index, response, startMs: startedAt - run.runStart, durationMs: modelDurationMs }));
      modelWrite.catch(() => {});
    }
  }
  messages.push(response.message);
  const step: StepInProgress = { index, response, startedAt, modelDurationMs, finished: [] };
  run.inProgress = step;

  const calls = response.message.tool_calls ?? [];
  // A final answer is kept even when it crossed a budget; the budget stops only further steps.
  const overBudget = calls.length > 0 ? run.crossedBudget(response) : undefined;
  const { records: toolCalls, pending } = overBudget
    ? { records: calls.map((call) => notRun(call, `not run: the run's ${overBudget === "tokens" ? "token" : "cost"} budget was reached`, run.now() - run.runStart)), pending: [] }
    : await runToolCalls(run, step, calls, journalled);
  await modelWrite;
  // Results go back in the model's order, whatever order they finished in.
  for (const record of toolCalls) {
    messages.push({ role: "tool", tool_call_id: record.id, content: record.output } satisfies ToolMessage);
  }
  run.steps.push(run.stepOf(step, toolCalls));
  run.inProgress = undefined;
  if (pending.length > 0) return { type: "requires_action", pending };
  return overBudget ? { type: "budget", budget: overBudget } : decideNextStep(response, index, options.limits.maxSteps);
}

function decideNextStep(response: ModelResponse, index: number, maxSteps: number): NextStep {
  const wantsTools = (response.message.tool_calls?.length ?? 0) > 0;
  if (!wantsTools) {
    return { type: "final", finishReason: finishReasonOf(response.finishReason), output: response.message.content ?? "" };
  }
  // The tools of the last allowed step have run, so the history stays valid to continue later.
  return index >= maxSteps ? { type: "max_steps" } : { type: "run_again" };
}

function finishReasonOf(reason: ModelFinishReason): FinishReason {
  return reason === "length" || reason === "content_filter" ? reason : "stop";
}

function callModel(run: RunContext, step: number): Promise<ModelResponse> {
  const { options } = run;
  const maxContext = options.limits.maxContextTokens;
  const request = {
    messages: maxContext === undefined ? run.messages : fitContext(run.messages, maxContext),
    tools: run.index.toolSpecs,
    signal: run.signal,
    ...(options.outputSchema === undefined ? {} : { responseFormat: { type: "json_schema" as const, name: options.outputSchema.name, schema: options.outputSchema.schema } }),
    spans: run.span,
    ...(run.deadline === undefined ? {} : { deadline: run.deadline }),
    ...(options.stream
      ? {
          onDelta: (text: string) => {
            if (run.calling) run.calling.text += text;
            run.emit({ type: "model.delta", step, text });
          },
        }
      : {}),
  };
  const pending = options.model.complete(request);
  return options.model.settlesOnAbort ? pending : raceAbort(pending, run.signal);
}

/** The step whose model call was cut off by the failure: no answer, no usage, its time so far. */
function unfinishedModelStep(run: RunContext, calling: ModelCallInProgress): Step {
  const elapsed = run.now() - calling.startedAt;
  return {
    index: calling.index,
    model: run.options.model.name,
    provider: run.options.model.provider,
    responseId: undefined,
    finishReason: "incomplete",
    usage: emptyUsage,
    startMs: calling.startedAt - run.runStart,
    modelDurationMs: elapsed,
    durationMs: elapsed,
    toolCalls: [],
  };
}

/** The run's error; `partial` builds what the run did, with the finish reason the failure gives. */
function toRunError(error: unknown, signal: AbortSignal, timeoutMs: number, partial: (reason: FinishReason) => RunResult): RunError {
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof DeadlineReached) return new RunTimeoutError(timeoutMs, partial("timeout"));
    const why = reason instanceof CancelReason ? reason.reason : "the caller aborted it";
    return new RunCancelledError(why, partial("cancelled"), { cause: reason });
  }
  if (error instanceof JournalWriteFailed) return new RunJournalError(error.cause, partial("error"));
  if (error instanceof SystemError) return new RunSystemError(error, partial("error"));
  if (error instanceof SkiffError) return new RunModelError(error, partial("error"));
  // Anything else is a bug in skiff or a tool adapter: keep it, with what the run had done.
  return new RunSystemError(new SystemError(`Internal error: ${error instanceof Error ? error.message : String(error)}`, { cause: error }), partial("error"));
}
