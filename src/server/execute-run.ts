import { type AgentEvent, type AgentEventListener, type OutputSchema, type RunResult, runAgent } from "../agent/index.ts";
import type { ApprovalGate } from "../agent/approval.ts";
import { runEvent } from "../runs/journal-codec.ts";
import type { LocalRun } from "../runs/executor.ts";
import { RunStoreError } from "../runs/run-store.ts";
import type { Message } from "../model/messages.ts";
import { SessionStoreError, type StoredSession } from "../sessions/index.ts";
import type { AppContext, RequestInfo } from "./context.ts";
import { HttpError } from "./http-error.ts";
import type { RunOutcome } from "./metrics.ts";
import type { SseChannel } from "./sse.ts";
import { type Durability, encodeRunRequest, runFinalOf } from "./stored-run.ts";
import { admitKey, countKeyRun, keyedRun } from "./key-admission.ts";
import { clientClosedStatus, describeRunFailure, errorCodeOf, type RunFailure, type RunIds, runJson, storeUnavailable } from "./run-errors.ts";

/** One run as a route asks for it. */
export interface RunJob {
  readonly input: readonly Message[];
  readonly sessionId: string | undefined;
  readonly maxSteps: number | undefined;
  readonly timeoutMs: number | undefined;
  /** Ask the model to stream, so `model.delta` events arrive. */
  readonly stream: boolean;
  readonly traceparent: string | undefined;
  /**
   * What a call needing approval does: `pause` the run in requires_action (POST /v1/runs), or is
   * `deny`ed with an explanation (POST /v1/chat/completions, whose clients cannot answer).
   */
  readonly approvals?: "pause" | "deny";
  /** The name of the key the run was started with (its limits, tools and usage), when one was. */
  readonly keyName?: string;
  /** The final answer must match this schema (`output_schema`). */
  readonly outputSchema?: OutputSchema;
}

/** How a run ended. */
export type RunEnd =
  | { readonly ok: true; readonly result: RunResult; readonly outcome: RunOutcome }
  | { readonly ok: false; readonly failure: RunFailure };

/** A run that was admitted and whose session is locked and loaded; `run` must be called once. */
export interface PreparedRun {
  readonly ids: RunIds;
  run(onEvent?: AgentEventListener): Promise<RunEnd>;
}

/**
 * Whether a streamed run's client went away before the run ended: the reader cancelled the
 * stream, or the run was stopped because the client disconnected. Such a request is logged as
 * 499 though its 200 was sent.
 */
export function clientGone(channel: SseChannel, end: RunEnd): boolean {
  return !channel.open || (!end.ok && end.failure.http.status === clientClosedStatus);
}

/**
 * Admits a run (429 over max_concurrent, 503 while draining), locks its session (409 when another
 * run holds it) and loads the history, all before any response is sent, so these refusals are
 * plain HTTP errors even for streamed requests. `clientSignal` aborts when the client goes away.
 */
export async function prepareRun(ctx: AppContext, clientSignal: AbortSignal, job: RunJob, info: RequestInfo): Promise<PreparedRun> {
  // Admission first, then the key's own limits; each refusal undoes what came before it.
  const { deps } = ctx;
  const admission = deps.runs.admit(clientSignal);
  if (admission === "draining") {
    throw new HttpError(503, "service_unavailable", "the server is shutting down and takes no new runs; retry on another instance or after the restart", {
      headers: { "retry-after": "5", connection: "close" },
    });
  }
  if (admission === "full") {
    throw new HttpError(429, "rate_limit_error", `the server is running its limit of ${deps.runs.limit} runs at once (server.max_concurrent); retry in a moment`, {
      headers: { "retry-after": "1" },
    });
  }
  const ids: RunIds = { id: ctx.newId(), sessionId: job.sessionId };
  info.runId = ids.id;
  info.sessionId = job.sessionId;
  const key = info.caller?.kind === "key" ? info.caller.key : undefined;
  let releaseKey: (() => void) | undefined;
  if (key !== undefined) {
    try {
      releaseKey = await admitKey(ctx, key, "foreground");
    } catch (error) {
      admission.release();
      throw error;
    }
    job = { ...job, keyName: key.name };
  }
  const releaseAll = () => {
    releaseKey?.();
    admission.release();
  };

  const sessionId = job.sessionId;
  let session: StoredSession | undefined;
  if (sessionId !== undefined) {
    if (ctx.busySessions.has(sessionId)) {
      releaseAll();
      throw new HttpError(409, "conflict_error", `session "${sessionId}" has a run in progress; send the next turn when it has finished`, {
        param: "session_id",
      });
    }
    ctx.busySessions.add(sessionId);
    try {
      // Within the run's own timeout too: a frozen database must not hold a request past it.
      session = await ctx.store.within(runTimeoutMs(ctx, job)).get(sessionId);
    } catch (error) {
      ctx.busySessions.delete(sessionId);
      releaseAll();
      throw describeRunFailure(error, ids).http;
    }
  }

  // With a durable store the run is journalled too, so GET /v1/runs/{id} answers for it from any
  // replica; it still ends when its client goes away (only background runs outlive a request).
  let local: LocalRun | undefined;
  // A run that may pause for approvals is journalled even in memory: it continues from there.
  if (ctx.executor.store.durable || (job.approvals === "pause" && deps.requiresApproval !== undefined)) {
    try {
      local = await beginJournal(ctx, job, ids, session?.version ?? 0);
    } catch (error) {
      if (sessionId !== undefined) ctx.busySessions.delete(sessionId);
      releaseAll();
      throw error;
    }
  }

  if (key !== undefined) await countKeyRun(ctx, key, ids.id);
  return {
    ids,
    async run(onEvent) {
      try {
        const signal = local ? AbortSignal.any([admission.signal, local.signal]) : admission.signal;
        const end = await execute(ctx, job, ids, session, signal, info, onEvent, local && { journal: local.journal });
        if (local) await finishJournal(ctx, local, ids, end);
        return end;
      } finally {
        if (sessionId !== undefined) ctx.busySessions.delete(sessionId);
        releaseAll();
      }
    },
  };
}

/** Creates the run's record, claimed by this replica, and notes its start. */
async function beginJournal(ctx: AppContext, job: RunJob, ids: RunIds, sessionVersion: number): Promise<LocalRun> {
  try {
    const local = await ctx.executor.begin({ id: ids.id, sessionId: ids.sessionId, background: false, request: encodeRunRequest(job, runTimeoutMs(ctx, job)) });
    local.journal.note([runEvent("run.started", { attempt: 1, replica: ctx.executor.replica, session_version: sessionVersion })]);
    return local;
  } catch (error) {
    if (!(error instanceof RunStoreError)) throw error;
    throw new HttpError(503, "service_unavailable", "the run store failed while recording this run (see the server log); retry in a moment", {
      headers: { "retry-after": "5" },
      cause: error,
    });
  }
}

/** Stores how a foreground run ended; the client has its answer already, so trouble is only logged. */
async function finishJournal(ctx: AppContext, local: LocalRun, ids: RunIds, end: RunEnd): Promise<void> {
  try {
    await local.finish(runFinalOf(ids, end, ctx.now()));
  } catch (error) {
    ctx.logger.log("warn", "could not record how a run ended", { run_id: ids.id, error_code: errorCodeOf(error) });
  }
}

/**
 * Runs the agent for an admitted run with its session loaded, then saves the turn. With
 * `durability`, every model response and tool call is journalled and an earlier attempt's journal
 * is continued from.
 */
export async function execute(
  ctx: AppContext,
  job: RunJob,
  ids: RunIds,
  session: StoredSession | undefined,
  signal: AbortSignal,
  info: RequestInfo,
  onEvent: AgentEventListener | undefined,
  durability?: Durability,
): Promise<RunEnd> {
  const { deps } = ctx;
  const messages: Message[] = [];
  if (deps.system) messages.push({ role: "system", content: deps.system });
  if (session) messages.push(...session.messages);
  messages.push(...job.input);
  const timeoutMs = runTimeoutMs(ctx, job);
  const deadline = Date.now() + timeoutMs;
  const { model, tools, tracer } = keyedRun(ctx, job.keyName, ids.id);
  try {
    const result = await runAgent({
      model,
      tools,
      messages,
      limits: {
        ...deps.limits,
        maxSteps: job.maxSteps ?? deps.limits.maxSteps,
        timeoutMs,
      },
      signal,
      tracer,
      stream: job.stream,
      ...(durability ? { journal: durability.journal, onEvent: journalEvents(durability, onEvent) } : onEvent === undefined ? {} : { onEvent }),
      ...(durability?.resume === undefined ? {} : { resume: durability.resume }),
      ...(deps.requiresApproval === undefined ? {} : { approvals: approvalGate(deps.requiresApproval, job.approvals ?? "deny") }),
      ...(ids.sessionId === undefined ? {} : { conversationId: ids.sessionId }),
      ...(job.traceparent === undefined ? {} : { traceparent: job.traceparent }),
      ...(deps.price === undefined ? {} : { price: deps.price }),
      ...(job.outputSchema === undefined ? {} : { outputSchema: job.outputSchema }),
    });
    info.traceId = result.traceId;
    const outcome: RunOutcome =
      result.finishReason === "max_steps" || result.finishReason === "budget" || result.finishReason === "requires_action" ? result.finishReason : "completed";
    info.outcome = outcome;
    ctx.metrics.recordRun(outcome, result, job.keyName);
    // A paused run's turn is not over: it is saved when the run finishes after the decisions.
    if (ids.sessionId === undefined || outcome === "requires_action") return { ok: true, result, outcome };
    const unsaved = await saveTurn(ctx, ids, session?.version ?? 0, job.input, result, deadline, durability !== undefined);
    if (unsaved && unsaved.http.status >= 500) info.errorCode = errorCodeOf(unsaved.http.cause);
    return unsaved ? { ok: false, failure: unsaved } : { ok: true, result, outcome };
  } catch (error) {
    const failure = describeRunFailure(error, ids);
    info.outcome = failure.outcome;
    info.traceId ??= failure.partial?.traceId;
    if (failure.http.status >= 500) info.errorCode = errorCodeOf(error);
    if (failure.partial) ctx.metrics.recordRun(failure.outcome, failure.partial, job.keyName);
    return { ok: false, failure };
  }
}

/** The run's timeout: the request's, else the configured one, never above server.max_timeout. */
export function runTimeoutMs(ctx: AppContext, job: Pick<RunJob, "timeoutMs">): number {
  const { limits, settings } = ctx.deps;
  return job.timeoutMs ?? Math.min(limits.timeoutMs || settings.maxTimeoutMs, settings.maxTimeoutMs);
}

/**
 * Time a turn's commit always gets, even when the run finished just before its deadline: a
 * healthy store commits in milliseconds, and an answer that arrived in time should not be lost.
 */
const commitGraceMs = 1_000;

/**
 * Writes the turn in one atomic commit, waiting until the run's deadline at most (but at least
 * `commitGraceMs`). Returns a failure (with the answer as `partial`) when it could not be saved,
 * so the client knows the session did not move on.
 */
async function saveTurn(
  ctx: AppContext,
  ids: RunIds,
  version: number,
  input: readonly Message[],
  result: RunResult,
  deadline: number,
  journalled: boolean,
): Promise<RunFailure | undefined> {
  const sessionId = ids.sessionId!;
  // System messages sent with a turn instruct that turn only; the session keeps the conversation.
  const turn = [...input.filter((message) => message.role !== "system"), ...result.messages.slice(result.inputMessageCount)];
  const extra = { partial: runJson(ids, result) };
  try {
    const saved = await ctx.store.within(Math.max(deadline - Date.now(), commitGraceMs)).commitTurn(sessionId, {
      expectedVersion: version,
      messages: turn,
      maxMessages: ctx.deps.settings.maxHistoryMessages,
      // A journalled run resumed after a crash may find its turn already saved: then it is not saved twice.
      ...(journalled ? { runId: ids.id } : {}),
    });
    if (saved.ok) return undefined;
    const http = new HttpError(409, "conflict_error", `session "${sessionId}" was changed by another request while this run went on; this turn was not saved (its answer is in "partial")`, {
      param: "session_id",
      extra,
    });
    return { http, outcome: "error", partial: result };
  } catch (error) {
    const http =
      error instanceof SessionStoreError
        ? storeUnavailable(
            error,
            `saving this turn to session "${sessionId}"`,
            `the turn may not have been saved (GET /v1/sessions/${sessionId} shows whether it was); its answer is in "partial"`,
            extra,
          )
        : new HttpError(500, "server_error", `the answer could not be saved to session "${sessionId}" (internal error; see the server log); it is in "partial"`, {
            extra,
            cause: error,
          });
    return { http, outcome: "error", partial: result };
  }
}

/** Passes the loop's events on, and journals step starts (nobody waits for them) and the trace id. */
function journalEvents(durability: Durability, onEvent: AgentEventListener | undefined): AgentEventListener {
  const { journal } = durability;
  return (event: AgentEvent) => {
    if (event.type === "step.started") journal.note([runEvent("step.started", { step: event.step })]);
    else if (event.type === "run.started" && event.traceId !== undefined && durability.resume === undefined) journal.recordTraceId(event.traceId);
    onEvent?.(event);
  };
}

/** The gate of a served run: it cannot ask anyone now, so it pauses, or denies where nobody can answer. */
function approvalGate(requires: (toolName: string) => boolean, mode: "pause" | "deny"): ApprovalGate {
  return {
    requires,
    decide: async ({ calls }) =>
      mode === "pause"
        ? "pause"
        : calls.map((call) => ({
            callId: call.id,
            approve: false,
            reason: "this tool needs a person's approval, which /v1/chat/completions cannot ask for; the service's POST /v1/runs can",
          })),
  };
}
