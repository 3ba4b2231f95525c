import type { ApprovalGate } from "../agent/approval.ts";
import {
  type AgentEvent,
  ApprovalRequiredError,
  BudgetExceededError,
  ContentFilterError,
  MaxStepsError,
  OutputSchemaError,
  type OutputSchema,
  RunError,
  type RunResult,
  runAgent,
} from "../agent/index.ts";
import type { Config } from "../config/index.ts";
import { eventJson, progressEventJson } from "../contract/event-json.ts";
import { failedResultJson, notStartedResultJson, pausedResultJson, runResultJson } from "../contract/result-json.ts";
import { SkiffError, UsageError } from "../errors.ts";
import type { Message } from "../model/messages.ts";
import type { Runtime } from "../wire.ts";
import type { Terminal } from "./io.ts";
import { runSettings } from "./run-limits.ts";

/**
 * What `ask` prints on stdout: the answer's text, the result as one JSON document (`--json`), or
 * one JSON event per line ending with the result (`--stream-json`).
 */
export type AskOutput = "text" | "json" | "stream-json";

export interface AskOptions {
  readonly question: string | undefined;
  readonly output: AskOutput;
  readonly config: Config;
  readonly runtime: Runtime;
  readonly terminal: Terminal;
  readonly signal: AbortSignal;
  readonly traceparent?: string;
  /** Tools needing approval, and how it is given (prompt, `--approve`, `--yes`); none by default. */
  readonly approvals?: ApprovalGate;
  /** The final answer must match this schema (`--output-schema`). */
  readonly outputSchema?: OutputSchema;
  /** Also writes the final answer there (`--output-file`), when the run answered. */
  readonly writeAnswer?: (text: string) => void;
  /** The run's id, shown when it waits for approvals and in `--stream-json` (generated when absent). */
  readonly newId?: () => string;
}

/**
 * `skiff ask`: one run; the answer (or the JSON result, or JSON events) on stdout, progress on
 * stderr. With `--json` or `--stream-json` stdout holds a valid document in every outcome: the
 * result, with `error` when the run failed (then the error is thrown on for the exit code).
 */
export async function ask(options: AskOptions): Promise<void> {
  const { terminal, config, runtime, output } = options;
  const id = (options.newId ?? (() => `run_${crypto.randomUUID().replaceAll("-", "")}`))();
  const line = (json: object) => terminal.out(`${JSON.stringify(json)}\n`);
  let result: RunResult;
  try {
    const question = await resolveQuestion(options.question, terminal);
    const messages: Message[] = [];
    if (config.system) messages.push({ role: "system", content: config.system });
    messages.push({ role: "user", content: question });
    if (output === "stream-json") line(eventJson("run.started", { id }));
    result = await runAgent({
      model: runtime.model,
      tools: runtime.tools,
      messages,
      ...runSettings(config),
      signal: options.signal,
      tracer: runtime.tracer,
      onEvent: output === "text" ? (event) => reportProgress(event, terminal) : output === "stream-json" ? (event) => streamEvent(event, line) : undefined,
      ...(output === "stream-json" ? { stream: true } : {}),
      ...(options.traceparent === undefined ? {} : { traceparent: options.traceparent }),
      ...(options.approvals === undefined ? {} : { approvals: options.approvals }),
      ...(options.outputSchema === undefined ? {} : { outputSchema: options.outputSchema }),
    });
  } catch (error) {
    // The run never finished (timeout, Ctrl-C, model failure) or never started (no question).
    if (output === "json") terminal.out(pretty(errorDocument(error)));
    if (output === "stream-json") line(eventJson("run.failed", error instanceof RunError ? { error: errorJson(error), partial: runResultJson(error.partial) } : { error: errorJson(error) }));
    throw error;
  }

  const failure = failureOf(result, config);
  const error = failure === undefined ? {} : { error: errorJson(failure) };
  if (result.finishReason === "requires_action") {
    const paused = { ...pausedResultJson(id, result), ...error };
    if (output === "json") terminal.out(pretty(paused));
    if (output === "stream-json") line(eventJson("run.requires_action", paused));
  } else {
    const document = { ...runResultJson(result), ...error };
    if (output === "json") terminal.out(pretty(document));
    if (output === "stream-json") line(eventJson("run.completed", document));
    if (output === "text" && result.output) terminal.out(result.output.endsWith("\n") ? result.output : `${result.output}\n`);
  }
  if (failure) throw failure;
  // A valid structured answer is written as the JSON it parsed to, without any fence around it.
  options.writeAnswer?.(result.outputJson === undefined ? result.output : JSON.stringify(result.outputJson, null, 2));
}

/** Why a run that returned a result still exits non-zero, or undefined when it answered. */
function failureOf(result: RunResult, config: Config): RunError | undefined {
  switch (result.finishReason) {
    case "requires_action":
      // Nobody could answer: the calls that need approval are shown, nothing of them ran.
      return new ApprovalRequiredError(result);
    case "max_steps":
      return new MaxStepsError(config.max_steps, result);
    case "content_filter":
      // A filtered answer is not an answer: scripts must not take the text before the filter for one.
      return new ContentFilterError(result);
    case "budget":
      return new BudgetExceededError(result, result.budget === "cost" ? `$${config.max_cost}` : `${config.max_tokens} tokens`);
    case "output_schema":
      return new OutputSchemaError(result);
    default:
      return undefined;
  }
}

/** The `--json` document of a run that threw: its partial result, or an empty one, with the error. */
function errorDocument(error: unknown) {
  return error instanceof RunError ? failedResultJson(error) : notStartedResultJson(errorJson(error));
}

/** An error as results show it: a stable code and the one-line message. */
function errorJson(error: unknown): { code: string; message: string } {
  if (error instanceof SkiffError) return { code: error.code, message: error.message };
  return { code: "internal_error", message: error instanceof Error ? error.message : String(error) };
}

function pretty(json: object): string {
  return `${JSON.stringify(json, null, 2)}\n`;
}

function streamEvent(event: AgentEvent, line: (json: object) => void): void {
  const json = progressEventJson(event);
  if (json !== undefined) line(json);
}

async function resolveQuestion(question: string | undefined, terminal: Terminal): Promise<string> {
  if (question !== undefined && question !== "-") {
    if (question.trim() === "") throw new UsageError('the question is empty: skiff ask "your question"');
    return question;
  }
  if (question === undefined && terminal.stdinIsTTY) {
    throw new UsageError('no question: skiff ask "your question" (or pipe it on stdin)');
  }
  const text = (await terminal.readStdin()).trim();
  if (text === "") throw new UsageError("no question: stdin was empty");
  return text;
}

/** One short stderr line per finished tool call, so a person sees the agent work. */
function reportProgress(event: AgentEvent, terminal: Terminal): void {
  if (event.type !== "tool.finished") return;
  const status = event.ok ? "ok" : event.output.split("\n")[0]!.slice(0, 200);
  terminal.err(`· step ${event.step} ${event.name} ${status} (${event.durationMs.toFixed(1)}ms)\n`);
}
