import type { ApprovalGate } from "../agent/approval.ts";
import { type AgentEvent, ApprovalRequiredError, BudgetExceededError, ContentFilterError, MaxStepsError, runAgent, runResultJson } from "../agent/index.ts";
import type { Config } from "../config/index.ts";
import { UsageError } from "../errors.ts";
import type { Message } from "../model/messages.ts";
import type { Runtime } from "../wire.ts";
import type { Terminal } from "./io.ts";
import { runSettings } from "./run-limits.ts";

export interface AskOptions {
  readonly question: string | undefined;
  readonly json: boolean;
  readonly config: Config;
  readonly runtime: Runtime;
  readonly terminal: Terminal;
  readonly signal: AbortSignal;
  readonly traceparent?: string;
  /** Tools needing approval, and how it is given (prompt, `--approve`, `--yes`); none by default. */
  readonly approvals?: ApprovalGate;
  /** A run id for the JSON of a run that stopped for approvals (generated when absent). */
  readonly newId?: () => string;
}

/** `skiff ask`: one run; the answer (or the JSON result) on stdout, progress on stderr. */
export async function ask(options: AskOptions): Promise<void> {
  const { terminal, config, runtime } = options;
  const question = await resolveQuestion(options.question, terminal);
  const messages: Message[] = [];
  if (config.system) messages.push({ role: "system", content: config.system });
  messages.push({ role: "user", content: question });

  const result = await runAgent({
    model: runtime.model,
    tools: runtime.tools,
    messages,
    ...runSettings(config),
    signal: options.signal,
    tracer: runtime.tracer,
    onEvent: options.json ? undefined : (event) => reportProgress(event, terminal),
    ...(options.traceparent === undefined ? {} : { traceparent: options.traceparent }),
    ...(options.approvals === undefined ? {} : { approvals: options.approvals }),
  });

  if (result.finishReason === "requires_action") {
    // Nobody could answer: the calls that need approval are shown, nothing of them ran.
    const id = (options.newId ?? (() => `run_${crypto.randomUUID().replaceAll("-", "")}`))();
    const pending = (result.pendingApprovals ?? []).map((call) => ({ step: call.step, call_id: call.callId, tool: call.name, arguments: call.arguments }));
    if (options.json) terminal.out(`${JSON.stringify({ id, status: "requires_action", pending_approvals: pending, ...runResultJson(result) }, null, 2)}\n`);
    throw new ApprovalRequiredError(result);
  }
  if (options.json) terminal.out(`${JSON.stringify(runResultJson(result), null, 2)}\n`);
  else if (result.output) terminal.out(result.output.endsWith("\n") ? result.output : `${result.output}\n`);
  if (result.finishReason === "max_steps") throw new MaxStepsError(config.max_steps, result);
  // A filtered answer is not an answer: scripts must not take the text before the filter for one.
  if (result.finishReason === "content_filter") throw new ContentFilterError(result);
  if (result.finishReason === "budget") {
    throw new BudgetExceededError(result, result.budget === "cost" ? `$${config.max_cost}` : `${config.max_tokens} tokens`);
  }
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
