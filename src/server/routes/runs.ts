import type { AgentEvent } from "../../agent/index.ts";
import type { AppContext, RequestInfo } from "../context.ts";
import { clientGone, prepareRun, runTimeoutMs } from "../execute-run.ts";
import { admitKey, countKeyRun } from "../key-admission.ts";
import { RunStoreError, type RunRecord } from "../../runs/run-store.ts";
import { encodeRunRequest, pausedRunJson } from "../stored-run.ts";
import { badRequest, HttpError } from "../http-error.ts";
import { runObjectJson } from "./run-objects.ts";
import { readJsonBody } from "../read-body.ts";
import { clientClosedStatus, runJson } from "../run-errors.ts";
import { eventJson, progressEventJson } from "../../contract/event-json.ts";
import { outputSchemaFor } from "../output-schemas.ts";
import { eventData } from "../../runs/journal-codec.ts";
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
  const outputSchema = await outputSchemaFor(deps, request.outputSchemaJson);
  if (request.background) return submitBackground(ctx, { ...request, ...(outputSchema === undefined ? {} : { outputSchema }) }, traceparentOf(req), info);
  // A stream's reader can also cancel it; that too stops the run.
  const streamGone = request.stream ? new AbortController() : undefined;
  const prepared = await prepareRun(
    ctx,
    streamGone ? AbortSignal.any([req.signal, streamGone.signal]) : req.signal,
    { ...request, traceparent: traceparentOf(req), approvals: "pause", ...(outputSchema === undefined ? {} : { outputSchema }) },
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
  channel.send(JSON.stringify(eventJson("run.started", { id: ids.id, session_id: ids.sessionId ?? null })), "run.started");
  info.finished = prepared
    .run((event) => forward(channel, event))
    .then((end) => {
      if (clientGone(channel, end)) info.status = clientClosedStatus;
      if (end.ok && end.result.finishReason === "requires_action") {
        channel.send(JSON.stringify(eventJson("run.requires_action", pausedRunJson(ids, end.result.pendingApprovals ?? [], ctx.now()))), "run.requires_action");
      } else if (end.ok) channel.send(JSON.stringify(eventJson("run.completed", runJson(ids, end.result))), "run.completed");
      else channel.send(eventData("run.failed", end.failure.http.body()), "run.failed");
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
  // A key's limits are checked now; its run takes a slot of the key where it executes.
  const key = info.caller?.kind === "key" ? info.caller.key : undefined;
  if (key !== undefined) await admitKey(ctx, key, "background");
  const job = { ...request, traceparent, ...(key === undefined ? {} : { keyName: key.name }) };
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
  if (key !== undefined) await countKeyRun(ctx, key, id);
  info.outcome = "accepted";
  return Response.json(runObjectJson(record), { status: 202, headers: { "x-skiff-run-id": id, location: `/v1/runs/${id}` } });
}

/** The loop's progress events, in the API's snake_case. The final event is sent after the turn is saved. */
function forward(channel: SseChannel, event: AgentEvent): void {
  // run.completed/run.failed are sent by postRun with the ids; event kinds the loop may add later
  // are not streamed until the API documents them.
  const json = progressEventJson(event);
  if (json !== undefined) channel.send(JSON.stringify(json), event.type);
}
