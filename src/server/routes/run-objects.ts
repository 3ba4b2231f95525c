/**
 * Runs as objects that outlive their request: `GET /v1/runs/{id}` (status, and the result once
 * finished), `POST /v1/runs/{id}/cancel` (from any replica), and `GET /v1/runs/{id}/events` (the
 * run's stored events as SSE, each with its sequence number as `id:`, resumable with
 * Last-Event-ID or `?after=N`, following the run live until its final event).
 */
import { z } from "zod";
import { finalEventTypes } from "../../runs/journal-codec.ts";
import { type DecisionRefusal, recordDecisions } from "../approvals.ts";
import { issueError } from "../issues.ts";
import { readJsonBody } from "../read-body.ts";
import { type RunRecord, type RunStatus, runStatuses, RunStoreError } from "../../runs/run-store.ts";
import type { AppContext, RequestInfo } from "../context.ts";
import { badRequest, HttpError } from "../http-error.ts";
import { openSse, type SseChannel } from "../sse.ts";

/** Run ids are skiff's (`run_` + hex) but checked like any path input. */
const runIdPattern = /^[A-Za-z0-9_.:-]{1,128}$/;

/** How often a stream of a run executing on another replica looks for new events, in ms. */
export const followPollMs = 250;

/** Events read from the store per query while replaying. */
const pageSize = 500;

/**
 * GET /v1/runs: runs newest first, `?status=` to filter, `?limit=` (1–500, default 50), and
 * `?before=ID` for the next page (the last id of the page before).
 */
export async function listRunObjects(ctx: AppContext, req: Request): Promise<Response> {
  const params = new URL(req.url, "http://x").searchParams;
  const status = params.get("status") ?? undefined;
  if (status !== undefined && !(runStatuses as readonly string[]).includes(status)) {
    throw badRequest(`status: "${status}" is not a run status; use one of ${runStatuses.join(", ")}`, "status");
  }
  const limitText = params.get("limit") ?? "50";
  const limit = Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw badRequest(`limit: "${limitText}" must be a whole number from 1 to 500`, "limit");
  const beforeId = params.get("before") ?? undefined;
  let cursor: { createdBefore: number; beforeId: string } | undefined;
  if (beforeId !== undefined) {
    const anchor = await findRun(ctx, beforeId);
    cursor = { createdBefore: anchor.createdAt, beforeId: anchor.id };
  }
  const runs = await storeCall(
    () => ctx.executor.store.list({ limit, ...(status === undefined ? {} : { status: status as RunStatus }), ...(cursor ?? {}) }),
    "listing runs",
  );
  return Response.json({ object: "list", data: runs.map(runSummaryJson), has_more: runs.length === limit });
}

/** A run in a list: its state and, once finished, its usage and cost, without steps or output. */
function runSummaryJson(record: RunRecord): Record<string, unknown> {
  const { steps: _steps, output: _output, messages: _messages, partial: _partial, ...rest } = runObjectJson(record);
  return rest;
}

/** GET /v1/runs/{id}. */
export async function getRunObject(ctx: AppContext, id: string): Promise<Response> {
  const record = await findRun(ctx, id);
  return Response.json(runObjectJson(record));
}

/** POST /v1/runs/{id}/cancel: 202 while the run is being stopped elsewhere, 200 once it is finished. */
export async function cancelRunObject(ctx: AppContext, id: string): Promise<Response> {
  checkId(id);
  const body = { id, status: "cancelled", error: { type: "cancelled", message: "The run was cancelled through the API." } };
  const record = await storeCall(() => ctx.executor.cancel(id, body), `cancelling run "${id}"`);
  if (!record) throw notFound(id);
  const json = runObjectJson(record);
  return Response.json(json, { status: json["status"] === "cancelled" || isFinished(record) ? 200 : 202 });
}

const decisionsBody = z.strictObject({
  decisions: z
    .array(
      z.strictObject({
        call_id: z.string().min(1),
        approve: z.boolean(),
        reason: z.string().max(2_000).optional(),
      }),
    )
    .min(1, "give at least one decision"),
});

/**
 * POST /v1/runs/{id}/approvals: decisions on a paused run's pending calls, from any replica. The
 * run continues (on whichever replica has room) once every pending call is decided.
 */
export async function postApprovals(ctx: AppContext, req: Request, info: RequestInfo, id: string): Promise<Response> {
  checkId(id);
  info.runId = id;
  const parsed = decisionsBody.safeParse(await readJsonBody(req, ctx.bodyLimits));
  if (!parsed.success) throw issueError(parsed.error.issues, [], ["decisions"]);
  const decisions = parsed.data.decisions.map((d) => ({ callId: d.call_id, approve: d.approve, ...(d.reason === undefined ? {} : { reason: d.reason }) }));
  const seen = new Set<string>();
  for (const [index, decision] of decisions.entries()) {
    if (seen.has(decision.callId)) throw badRequest(`decisions[${index}].call_id: "${decision.callId}" is decided twice in this request`, `decisions[${index}].call_id`);
    seen.add(decision.callId);
  }
  const outcome = await storeCall(() => recordDecisions(ctx.executor.store, id, decisions, { by: "api", now: ctx.now() }), `recording decisions on run "${id}"`);
  if (!outcome.ok) throw refusalError(id, outcome.refusal);
  for (const decision of decisions) {
    ctx.logger.log("info", "approval decided", { run_id: id, call_id: decision.callId, approve: decision.approve, by: "api" });
  }
  if (outcome.queued) ctx.executor.poke();
  return Response.json(runObjectJson(outcome.record));
}

function refusalError(id: string, refusal: DecisionRefusal): HttpError {
  switch (refusal.kind) {
    case "not_found":
      return notFound(id);
    case "not_waiting":
      return new HttpError(409, "conflict_error", `run "${id}" is ${refusal.status}, not waiting for approvals (status requires_action); there is nothing to decide`);
    case "unknown_call":
      return new HttpError(
        400,
        "invalid_request_error",
        `decisions[${refusal.index}].call_id: run "${id}" has no pending call "${refusal.callId}"; pending: ${refusal.pending.join(", ") || "(none)"}`,
        { param: `decisions[${refusal.index}].call_id` },
      );
    case "already_decided":
      return new HttpError(409, "conflict_error", `decisions[${refusal.index}].call_id: call "${refusal.callId}" of run "${id}" was already decided`, {
        param: `decisions[${refusal.index}].call_id`,
      });
    case "busy":
      return new HttpError(409, "conflict_error", `run "${id}" kept changing while the decisions were recorded; send them again`);
    default: {
      const unknown: never = refusal;
      throw new Error(`unhandled refusal ${JSON.stringify(unknown)}`);
    }
  }
}

/** GET /v1/runs/{id}/events. */
export async function getRunEvents(ctx: AppContext, req: Request, info: RequestInfo, id: string): Promise<Response> {
  const after = afterOf(req);
  await findRun(ctx, id);
  info.runId = id;
  const gone = new AbortController();
  const { response, channel } = openSse(ctx.heartbeat, { "x-skiff-run-id": id }, () => gone.abort());
  const stop = AbortSignal.any([req.signal, gone.signal]);
  info.finished = follow(ctx, id, after, channel, stop);
  return response;
}

/** The JSON of a run: its state, and once finished the fields of its final result or error. */
export function runObjectJson(record: RunRecord): Record<string, unknown> {
  const head = {
    id: record.id,
    object: "run",
    status: record.status,
    session_id: record.sessionId ?? null,
    background: record.background,
    created_at: new Date(record.createdAt).toISOString(),
    updated_at: new Date(record.updatedAt).toISOString(),
    attempt: record.attempt,
    trace_id: record.traceId ?? null,
    last_event_id: record.lastSeq,
  };
  if (record.result === undefined) return head;
  const result = JSON.parse(record.result) as Record<string, unknown>;
  // The result's own id, session and status must not override the record's.
  const { id: _id, session_id: _session, status: _status, ...fields } = result;
  return { ...head, ...fields, trace_id: fields["trace_id"] ?? head.trace_id };
}

async function follow(ctx: AppContext, id: string, after: number, channel: SseChannel, stop: AbortSignal): Promise<void> {
  const store = ctx.executor.store;
  let last = after;
  let wake: (() => void) | undefined;
  // Set by a write that lands while the store is being read, so the next wait does not sleep
  // through it (the waker exists only while waiting).
  let written = false;
  const unsubscribe = ctx.executor.subscribe(id, () => {
    written = true;
    wake?.();
  });
  const onStop = () => wake?.();
  stop.addEventListener("abort", onStop, { once: true });
  try {
    while (channel.open && !stop.aborted) {
      written = false;
      const events = await store.events(id, last, pageSize);
      for (const event of events) {
        channel.send(event.data, event.type, event.seq);
        last = event.seq;
        if (finalEventTypes.has(event.type)) return;
      }
      if (events.length === pageSize || written) continue;
      // Woken by a write in this process, or after a poll interval for a run on another replica.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, followPollMs);
        function done() {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        }
        wake = done;
      });
    }
  } finally {
    stop.removeEventListener("abort", onStop);
    unsubscribe();
    channel.close();
  }
}

async function findRun(ctx: AppContext, id: string): Promise<RunRecord> {
  checkId(id);
  const record = await storeCall(() => ctx.executor.store.get(id), `reading run "${id}"`);
  if (!record) throw notFound(id);
  return record;
}

function isFinished(record: RunRecord): boolean {
  return record.status === "completed" || record.status === "failed" || record.status === "cancelled";
}

/** Where a stream resumes: Last-Event-ID, else `?after=N`, else the start. */
function afterOf(req: Request): number {
  const header = req.headers.get("last-event-id");
  const query = new URL(req.url, "http://x").searchParams.get("after");
  const raw = header ?? query;
  if (raw === null || raw === "") return 0;
  if (!/^\d{1,15}$/.test(raw.trim())) {
    throw badRequest(`${header === null ? "after" : "Last-Event-ID"}: "${raw}" is not an event id; use the number of the last event received (0 for the start)`, header === null ? "after" : null);
  }
  return Number(raw.trim());
}

function checkId(id: string): void {
  if (!runIdPattern.test(id)) throw badRequest(`id: "${id}" is not a run id; run ids are what POST /v1/runs returned, e.g. run_3f2a…`, "id");
}

function notFound(id: string): HttpError {
  return new HttpError(404, "not_found_error", `no run "${id}" (it may have been removed by server.runs_retention, or kept in another store)`);
}

async function storeCall<T>(call: () => Promise<T>, doing: string): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof RunStoreError)) throw error;
    throw new HttpError(503, "service_unavailable", `the run store failed while ${doing} (see the server log); retry in a moment`, {
      headers: { "retry-after": "5" },
      cause: error,
    });
  }
}
