/**
 * A step's tool calls: all at once (within max_parallel; serial tools in order), continuing an
 * earlier attempt's journal (finished calls kept, interrupted ones re-run only when idempotent),
 * asking for approvals where the policy wants them, and journalling each call before and after.
 */
import type { ToolCall } from "../model/messages.ts";
import { raceAbort } from "../util/abort.ts";
import { deniedOutput } from "./approval.ts";
import { executeToolCall } from "./execute-tool-call.ts";
import { interruptedCallOutput, type JournalledStep, JournalWriteFailed } from "./journal.ts";
import type { PendingApproval, ToolCallRecord } from "./result.ts";
import { notRun, type RunContext, type StepInProgress } from "./run-context.ts";
import { scheduleToolCalls } from "./schedule-tool-calls.ts";

/** A step's tool results, and the calls left waiting for a person's decision. */
export interface StepCalls {
  readonly records: ToolCallRecord[];
  readonly pending: readonly PendingApproval[];
}

/**
 * Runs a step's calls. With an earlier attempt's journal, a finished call keeps its result, and a
 * call that started but did not finish runs again only when its tool is idempotent; otherwise the
 * model is told it was interrupted. Calls that need approval run once approved; a denied one is
 * answered with the denial; undecided ones (the gate paused) are left pending, and the others run.
 */
export async function runToolCalls(run: RunContext, step: StepInProgress, calls: readonly ToolCall[], journalled: JournalledStep | undefined): Promise<StepCalls> {
  const { options, signal, index } = run;
  const { journal, approvals } = options;
  let toRun = calls;
  if (journalled) {
    toRun = calls.filter((call) => !journalled.finished.has(call.id) && (!journalled.startedCallIds.has(call.id) || index.toolsByName.get(call.name)?.idempotent === true));
  }
  let decisions = journalled?.decisions;
  let pendingIds: ReadonlySet<string> | undefined;
  if (approvals) {
    const undecided = toRun.filter((call) => approvals.requires(call.name) && !decisions?.has(call.id) && !journalled?.startedCallIds.has(call.id));
    if (undecided.length > 0) {
      const asked = run.now();
      const answer = await approvals.decide({ step: step.index, calls: undecided, signal });
      if (answer === "pause") {
        pendingIds = new Set(undecided.map((call) => call.id));
      } else {
        if (journal) await journalWrite(journal.approvalsDecided(step.index, answer));
        const waitMs = run.now() - asked;
        const decided = new Map([...(decisions ?? []), ...answer.map((decision) => [decision.callId, { by: "terminal", waitMs, ...decision }] as const)]);
        // A gate that left a call out has not approved it.
        for (const call of undecided) if (!decided.has(call.id)) decided.set(call.id, { callId: call.id, approve: false, reason: "no decision was given" });
        decisions = decided;
      }
    }
  }
  // The decisions this attempt applies go on its span, with who decided and how long the call waited.
  if (decisions) {
    for (const call of toRun) {
      const decision = decisions.get(call.id);
      if (decision) {
        run.span.approvalDecided({
          callId: call.id,
          toolName: call.name,
          approve: decision.approve,
          ...(decision.by === undefined ? {} : { by: decision.by }),
          ...(decision.waitMs === undefined ? {} : { waitMs: decision.waitMs }),
        });
      }
    }
  }
  const denied = (call: ToolCall) => decisions?.get(call.id)?.approve === false;
  const starting = toRun.filter((call) => !pendingIds?.has(call.id) && !denied(call));
  if (journal && starting.length > 0) await journalWrite(journal.toolsStarting(step.index, starting));
  const settle = async (record: ToolCallRecord): Promise<ToolCallRecord> => {
    if (journal) await journalWrite(journal.toolFinished(step.index, record));
    step.finished.push(record);
    return record;
  };
  const execute = async (call: ToolCall): Promise<ToolCallRecord | undefined> => {
    const done = journalled?.finished.get(call.id);
    if (done) return done;
    if (pendingIds?.has(call.id)) return undefined;
    if (denied(call)) return settle(notRun(call, "", run.now() - run.runStart, deniedOutput(decisions?.get(call.id)?.reason)));
    if (!toRun.includes(call)) return settle(notRun(call, "", run.now() - run.runStart, interruptedCallOutput));
    return settle(
      await executeToolCall(call, {
        tools: index.toolsByName,
        runSignal: signal,
        timeoutMs: options.limits.toolTimeoutMs,
        outputLimit: options.limits.toolOutputLimit,
        span: run.span,
        step: step.index,
        runStart: run.runStart,
        now: run.now,
        emit: run.emit,
      }),
    );
  };
  const results = await raceAbort(
    scheduleToolCalls(
      calls,
      {
        maxParallel: options.limits.maxParallelTools ?? Number.POSITIVE_INFINITY,
        isSerial: (call) => index.toolsByName.get(call.name)?.parallel === false,
      },
      execute,
    ),
    signal,
  );
  const records = results.filter((record): record is ToolCallRecord => record !== undefined);
  const pending = pendingIds ? calls.filter((call) => pendingIds.has(call.id)).map((call) => ({ step: step.index, callId: call.id, name: call.name, arguments: call.arguments })) : [];
  return { records, pending };
}

/** Waits for a journal write; a failure becomes JournalWriteFailed so the run ends with it. */
export async function journalWrite(write: Promise<void>): Promise<void> {
  try {
    await write;
  } catch (error) {
    throw new JournalWriteFailed(error);
  }
}
