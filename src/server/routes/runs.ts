import type { AgentEvent } from "../../agent/index.ts";
import type { AppContext, RequestInfo } from "../context.ts";
import { clientGone, prepareRun, runTimeoutMs } from "../execute-run.ts";
import { RunStoreError, type RunRecord } from "../../runs/run-store.ts";
import { encodeRunRequest, pausedRunJson } from "../stored-run.ts";
import { badRequest, HttpError } from "../http-error.ts";
import { runObjectJson } from "./run-objects.ts";
import { readJsonBody } from "../read-body.ts";
import { clientClosedStatus, runJson } from "../run-errors.ts";
import { parseRunRequest, type RunRequest } from "../run-request.ts";
import { openSse, type SseChannel } from "../sse.ts";
import { traceparentOf } from "../trace-context.ts";

/**
 * POST /v1/runs: one agent turn. JSON in, JSON out; with `"stream": true`, a `text/event-stream`
 * of `run.started`, `step.started`, `model.delta`, `tool.started`, `tool.finished`, then
 * `run.completed` or `run.failed`.
 */
export async function postRun(ctx: AppContext, req: Request, info: RequestInfo): Promise<Response> {
  const { deps } = ctx;
  const body = await readJsonBody(req, ctx.bodyLimits);
  const request = parseRunRequest(body, { maxSteps: deps.limits.maxSteps, maxTimeoutMs: deps.settings.maxTimeoutMs });
  if (request.input.at(-1)?.role !== "user") {
    throw badRequest('input: the last message must be from the user (role "user"); skiff answers it', "input");
  }
  if (request.background) return submitBackground(ctx, request, traceparentOf(req), info);
  // A stream's reader can also cancel it; that too stops the run.
  const streamGone = request.stream ? new AbortController() : undefined;
  const prepared = await prepareRun(
    ctx,
    streamGone ? AbortSignal.any([req.signal, streamGone.signal]) : req.signal,
    { ...request, traceparent: traceparentOf(req), approvals: "pause" },
    info,
  );
  const { ids } = prepared;
  const headers = { "x-skiff-run-id": ids.id };

  if (!request.stream) {
    const end = await prepared.run();
    // Paused for approvals: 202, the run goes on once POST /v1/runs/{id}/approvals has the decisions.
    if (end.ok && end.result.finishReason === "requires_action") {
      return Response.json(pausedRunJson(ids, end.result.pendingApprovals ?? [], ctx.now()), { status: 202, headers: { ...headers, location: `/v1/runs/${ids.id}` } });
    }
    if (end.ok) return Response.json(runJson(ids, end.result), { headers });
    const response = end.failure.http.toResponse();
    response.headers.set("x-skiff-run-id", ids.id);
    return response;
  }

  const { response, channel } = openSse(ctx.heartbeat, headers, () => streamGone?.abort());
  channel.send(JSON.stringify({ id: ids.id, session_id: ids.sessionId ?? null }), "run.started");
  info.finished = prepared
    .run((event) => forward(channel, event))
    .then((end) => {
      if (clientGone(channel, end)) info.status = clientClosedStatus;
      if (end.ok && end.result.finishReason === "requires_action") {
        channel.send(JSON.stringify(pausedRunJson(ids, end.result.pendingApprovals ?? [], ctx.now())), "run.requires_action");
      } else if (end.ok) channel.send(JSON.stringify(runJson(ids, end.result)), "run.completed");
      else channel.send(JSON.stringify(end.failure.http.body()), "run.failed");
      channel.close();
    });
  return response;
}

/**
 * A background run: stored, then executed here when a slot is free or by whichever replica has
 * room first. Answered 202 with its id at once; it does not end when this request does.
 */
async function submitBackground(ctx: AppContext, request: RunRequest, traceparent: string | undefined, info: RequestInfo): Promise<Response> {
  if (ctx.deps.runs.draining) {
    throw new HttpError(503, "service_unavailable", "the server is shutting down and takes no new runs; retry on another instance or after the restart", {
      headers: { "retry-after": "5", connection: "close" },
    });
  }
  const id = ctx.newId();
  info.runId = id;
  info.sessionId = request.sessionId;
  const job = { ...request, traceparent };
  const timeoutMs = runTimeoutMs(ctx, request);
  let record: RunRecord;
  try {
    record = await ctx.executor.submit({ id, sessionId: request.sessionId, background: true, request: encodeRunRequest(job, timeoutMs) });
  } catch (error) {
    if (!(error instanceof RunStoreError)) throw error;
    throw new HttpError(503, "service_unavailable", "the run store failed while recording this run (see the server log); retry in a moment", {
      headers: { "retry-after": "5" },
      cause: error,
    });
  }
  info.outcome = "accepted";
  return Response.json(runObjectJson(record), { status: 202, headers: { "x-skiff-run-id": id, location: `/v1/runs/${id}` } });
}

/** The loop's progress events, in the API's snake_case. The final event is sent after the turn is saved. */
function forward(channel: SseChannel, event: AgentEvent): void {
  switch (event.type) {
    case "step.started":
      channel.send(`{"step":${event.step}}`, event.type);
      return;
    case "model.delta":
      channel.send(JSON.stringify({ step: event.step, text: event.text }), event.type);
      return;
    case "tool.started":
      channel.send(JSON.stringify({ step: event.step, call_id: event.callId, name: event.name, arguments: event.arguments }), event.type);
      return;
    case "tool.finished":
      channel.send(
        JSON.stringify({
          step: event.step,
          call_id: event.callId,
          name: event.name,
          ok: event.ok,
          output: event.output,
          duration_ms: Math.round(event.durationMs * 100) / 100,
        }),
        event.type,
      );
      return;
    default:
      // run.completed/run.failed are sent by postRun with the ids; event kinds the loop may add
      // later are not streamed until the API documents them.
      return;
  }
}
