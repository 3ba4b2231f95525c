import type { AgentEvent } from "../../agent/index.ts";
import type { AppContext, RequestInfo } from "../context.ts";
import { clientGone, prepareRun } from "../execute-run.ts";
import { badRequest } from "../http-error.ts";
import { readJsonBody } from "../read-body.ts";
import { clientClosedStatus, runJson } from "../run-errors.ts";
import { parseRunRequest } from "../run-request.ts";
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
  // A stream's reader can also cancel it; that too stops the run.
  const streamGone = request.stream ? new AbortController() : undefined;
  const prepared = await prepareRun(
    ctx,
    streamGone ? AbortSignal.any([req.signal, streamGone.signal]) : req.signal,
    { ...request, traceparent: traceparentOf(req) },
    info,
  );
  const { ids } = prepared;
  const headers = { "x-skiff-run-id": ids.id };

  if (!request.stream) {
    const end = await prepared.run();
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
      if (end.ok) channel.send(JSON.stringify(runJson(ids, end.result)), "run.completed");
      else channel.send(JSON.stringify(end.failure.http.body()), "run.failed");
      channel.close();
    });
  return response;
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
