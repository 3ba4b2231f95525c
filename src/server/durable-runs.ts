/**
 * The HTTP service's side of durable runs: what a run's stored request holds, how a background run
 * claimed by this replica (new, queued, or left by a replica that died) is executed, and how a
 * run's end is stored. Leases and claims are the executor's (src/runs/executor.ts).
 */
import { runEvent } from "../runs/journal-codec.ts";
import { runFinalOf } from "./stored-run.ts";
import type { ClaimedRun, RunFinal } from "../runs/executor.ts";
import type { RunEvent } from "../runs/run-store.ts";
import { SessionStoreError, type StoredSession } from "../sessions/index.ts";
import type { AppContext, RequestInfo } from "./context.ts";
import { execute, type RunJob } from "./execute-run.ts";
import { describeRunFailure, type RunIds } from "./run-errors.ts";
import { decodeRunRequest } from "./stored-run.ts";
import { outputSchemaFor } from "./output-schemas.ts";

/** A failure stored before the agent ran (the run could not start). */
function failedBefore(ids: RunIds, type: string, message: string): RunFinal {
  return { status: "failed", body: { id: ids.id, session_id: ids.sessionId ?? null, status: "failed", error: { type, message, param: null } } };
}

/**
 * Executes a background run this replica claimed: reads its request and session, continues from
 * its journal when an earlier attempt left one, and returns how it ended (the executor stores it).
 */
export async function executeBackground(ctx: AppContext, claimed: ClaimedRun, replica: string): Promise<RunFinal> {
  const { record } = claimed;
  const ids: RunIds = { id: record.id, sessionId: record.sessionId };
  const request = decodeRunRequest(record.request);
  // Time spent waiting for a person's decisions does not count against the run's timeout.
  const remainingMs = record.createdAt + request.timeout_ms + waitedForApprovals(claimed.events) - ctx.now();
  if (remainingMs <= 0) {
    return failedBefore(ids, "timeout_error", `The run did not finish within its timeout of ${request.timeout_ms} ms (it was waiting for a replica, or its replica stopped).`);
  }
  const sessionId = record.sessionId;
  if (sessionId !== undefined && ctx.busySessions.has(sessionId)) {
    return failedBefore(ids, "conflict_error", `session "${sessionId}" had another run in progress on this replica; send the next turn when it has finished`);
  }
  if (sessionId !== undefined) ctx.busySessions.add(sessionId);
  // The key it was started with: its slot here while it executes, and its limits and tools.
  const keyName = request.key ?? undefined;
  const releaseKey = keyName === undefined ? undefined : ctx.limiter.hold(keyName);
  try {
    let session: StoredSession | undefined;
    if (sessionId !== undefined) {
      try {
        session = await ctx.store.within(remainingMs).get(sessionId);
      } catch (error) {
        if (!(error instanceof SessionStoreError)) throw error;
        return { status: "failed", body: { id: ids.id, status: "failed", ...describeRunFailure(error, ids).http.body() } };
      }
    }
    const resume = claimed.resume;
    if (resume) {
      const started = sessionVersionAtStart(claimed.events);
      const version = session?.version ?? 0;
      const answered = resume.point.steps.at(-1)?.model.response.message.tool_calls === undefined && resume.point.steps.length > 0;
      // Someone else's turn landed in the session since this run began: its history is not the one
      // the journalled steps were made from. (Its own committed turn is the other way to get here,
      // and then the journal holds the answer: the commit below is then found already made.)
      if (started !== undefined && version !== started && !answered) {
        return failedBefore(ids, "conflict_error", `session "${sessionId}" was changed by another request while this run was interrupted; it was not resumed`);
      }
      claimed.journal.note([runEvent("run.resumed", { attempt: record.attempt, replica, steps_done: resume.point.steps.length })]);
    } else {
      claimed.journal.note([runEvent("run.started", { attempt: record.attempt, replica, session_version: session?.version ?? 0 })]);
    }
    // As stored (the request's schema, or the configured one it got); compiled once per replica.
    const outputSchema = request.output_schema === undefined ? undefined : await outputSchemaFor(ctx.deps, request.output_schema);
    const job: RunJob = {
      input: request.input,
      sessionId,
      maxSteps: request.max_steps ?? undefined,
      timeoutMs: remainingMs,
      stream: false,
      traceparent: request.traceparent ?? undefined,
      approvals: "pause",
      ...(keyName === undefined ? {} : { keyName }),
      ...(outputSchema === undefined ? {} : { outputSchema }),
    };
    const info: RequestInfo = { route: "background", ...(keyName === undefined ? {} : { keyName }) };
    const end = await execute(ctx, job, ids, session, claimed.signal, info, undefined, {
      journal: claimed.journal,
      ...(resume === undefined ? {} : { resume }),
    });
    return runFinalOf(ids, end, ctx.now());
  } finally {
    releaseKey?.();
    if (sessionId !== undefined) ctx.busySessions.delete(sessionId);
  }
}

/** The session version the run's first attempt started from (its `run.started` event). */
function sessionVersionAtStart(events: readonly RunEvent[]): number | undefined {
  const started = events.find((event) => event.type === "run.started");
  if (!started) return undefined;
  const version = (JSON.parse(started.data) as { session_version?: unknown }).session_version;
  return typeof version === "number" ? version : undefined;
}

/** How long the run waited in requires_action so far: from each pause to the decisions that queued it again. */
function waitedForApprovals(events: readonly RunEvent[]): number {
  let waited = 0;
  let pausedAt: number | undefined;
  for (const event of events) {
    if (event.type === "run.requires_action") pausedAt = event.at;
    else if (event.type === "run.queued" && pausedAt !== undefined) {
      waited += event.at - pausedAt;
      pausedAt = undefined;
    }
  }
  return waited;
}
