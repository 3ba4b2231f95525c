/**
 * One run's state, shared by its steps: messages, finished steps, the step in progress (so a run
 * that fails mid-step still reports it), budgets, and the tool index. A class: an in-flight run
 * holds it for its whole life, and thousands run at once.
 */
import { addUsage, emptyUsage, type Message, type ToolCall, type Usage } from "../model/messages.ts";
import type { ModelResponse, ToolSpec } from "../model/model.ts";
import type { RunSpan } from "../telemetry/tracer.ts";
import type { Tool } from "../tools/tool.ts";
import type { AgentEvent, AgentEventListener } from "./events.ts";
import type { FinishReason, RunResult, Step, ToolCallRecord } from "./result.ts";
import type { RunOptions } from "./run-agent.ts";
import { type BudgetCondition, costBudget, tokenBudget, totalCost } from "./stop-condition.ts";

/** The step whose tools are running, so a run that fails mid-step still reports what it did. */
export interface StepInProgress {
  readonly index: number;
  readonly response: ModelResponse;
  readonly startedAt: number;
  readonly modelDurationMs: number;
  readonly finished: ToolCallRecord[];
}

/** A model call under way: when it started, and what it has streamed so far. */
export interface ModelCallInProgress {
  readonly index: number;
  readonly startedAt: number;
  text: string;
}

/** One run's state, shared by its steps. A class: an in-flight run holds it for its whole life. */
export class RunContext {
  readonly messages: Message[];
  readonly steps: Step[] = [];
  inProgress: StepInProgress | undefined;
  /** Set while the model is asked, so a run that fails then still reports that step and its text. */
  calling: ModelCallInProgress | undefined;
  readonly budgets: readonly BudgetCondition[];
  /** Corrective turns sent so far for answers that did not match the output schema. */
  corrections = 0;

  constructor(
    readonly options: RunOptions,
    readonly index: ToolIndex,
    readonly signal: AbortSignal,
    readonly deadline: number | undefined,
    readonly span: RunSpan,
    readonly emit: (event: AgentEvent) => void,
    readonly now: () => number,
    readonly runStart: number,
  ) {
    this.messages = [...options.messages];
    const { maxTokens, maxCostUsd } = options.limits;
    const budgets: BudgetCondition[] = [];
    if (maxTokens !== undefined) budgets.push(tokenBudget(maxTokens));
    if (maxCostUsd !== undefined && options.price) budgets.push(costBudget(maxCostUsd, options.price));
    this.budgets = budgets;
  }

  /** The run so far, as a result. */
  snapshot(finishReason: FinishReason, output: string, budget?: "tokens" | "cost"): RunResult {
    return {
      output,
      messages: this.messages,
      inputMessageCount: this.options.messages.length,
      steps: this.steps,
      usage: totalUsage(this.steps),
      costUsd: totalCost(this.steps, this.options.price),
      finishReason,
      ...(budget === undefined ? {} : { budget }),
      traceId: this.span.traceId,
      durationMs: this.now() - this.runStart,
    };
  }

  /** The step in progress as a Step, with the calls that finished, in start order. */
  stepOf(step: StepInProgress, toolCalls: readonly ToolCallRecord[]): Step {
    const { response } = step;
    return {
      index: step.index,
      model: response.model,
      provider: response.provider,
      responseId: response.id,
      finishReason: response.finishReason,
      usage: response.usage,
      startMs: step.startedAt - this.runStart,
      modelDurationMs: step.modelDurationMs,
      durationMs: this.now() - step.startedAt,
      toolCalls,
    };
  }

  /** Which budget the steps so far plus `response` crossed, if any. */
  crossedBudget(response: ModelResponse): "tokens" | "cost" | undefined {
    if (this.budgets.length === 0) return undefined;
    const usages = [...this.steps, response];
    for (const budget of this.budgets) {
      const crossed = budget(usages);
      if (crossed) return crossed;
    }
    return undefined;
  }
}

/** The run's tools by name, and their specs for the model. */
export interface ToolIndex {
  readonly toolsByName: ReadonlyMap<string, Tool>;
  readonly toolSpecs: readonly ToolSpec[];
}

/** A service passes the same tools array to every run: index it once, not per run. */
const toolIndexes = new WeakMap<readonly Tool[], ToolIndex>();

/** The index of a tools array, made once per array. */
export function toolIndex(tools: readonly Tool[]): ToolIndex {
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

/** Usage summed over steps. */
export function totalUsage(steps: readonly { readonly usage: Usage }[]): Usage {
  return steps.reduce<Usage>((sum, step) => addUsage(sum, step.usage), emptyUsage);
}

/** A tool call the loop chose not to run; the model (in a later session turn) is told why. */
export function notRun(call: ToolCall, reason: string, atMs: number, output = `error: ${reason}`): ToolCallRecord {
  return { id: call.id, name: call.name, arguments: call.arguments, ok: false, output, startMs: atMs, durationMs: 0 };
}

/** Calls `listener`, never letting it throw into the run. */
export function safeEmitter(listener: AgentEventListener | undefined): (event: AgentEvent) => void {
  if (!listener) return () => {};
  return (event) => {
    try {
      listener(event);
    } catch {
      // A listener (a closed SSE stream, a broken pipe) must not break the run it observes.
    }
  };
}
