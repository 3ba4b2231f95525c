import { SessionStoreTimeoutError } from "../../sessions/index.ts";
import { formatDuration } from "../../util/duration.ts";
import type { AppContext, RequestInfo } from "../context.ts";
import { HttpError } from "../http-error.ts";
import { agentModelName } from "./chat-completions.ts";

/** GET /v1/tools: the enabled tools with their JSON Schemas (for a key with `tools`, the ones its runs get). */
export function getTools(ctx: AppContext, _req: Request, info: RequestInfo): Response {
  const offered = info.caller?.kind === "key" ? (info.caller.key.tools ?? ctx.deps.tools) : ctx.deps.tools;
  const tools = offered.map((tool) => ({
    name: tool.name,
    description: tool.description,
    type: tool.type,
    source: tool.source,
    parameters: tool.parameters,
  }));
  return Response.json({ tools });
}

const modelObject = { id: agentModelName, object: "model", created: 0, owned_by: "skiff" };

/** GET /v1/models: OpenAI clients list models before they chat; the agent is the only one. */
export function listModels(): Response {
  return Response.json({ object: "list", data: [modelObject] });
}

/** GET /v1/models/{id}. */
export function getModel(id: string): Response {
  if (id !== agentModelName) {
    throw new HttpError(404, "not_found_error", `model "${id}" does not exist here; this server has one model, "${agentModelName}"`, { param: "model" });
  }
  return Response.json(modelObject);
}

/** GET /healthz: the process is up and serving. */
export function healthz(): Response {
  return Response.json({ status: "ok" });
}

/**
 * GET /readyz: 503 once shutdown has begun, or while the session store does not answer a cheap
 * probe within server.store_timeout, so load balancers stop sending work that would hang.
 */
export async function readyz(ctx: AppContext): Promise<Response> {
  if (ctx.deps.runs.draining) {
    throw new HttpError(503, "service_unavailable", "the server is shutting down", { headers: { "retry-after": "5" } });
  }
  try {
    await ctx.store.probe();
  } catch (error) {
    // The store's own error may name hosts or paths; /readyz needs no token, so it says only which part failed.
    const what = error instanceof SessionStoreTimeoutError ? `has not answered a probe within ${formatDuration(error.timeoutMs)} (server.store_timeout)` : "failed a probe (see the server log)";
    throw new HttpError(503, "service_unavailable", `not ready: the session store ${what}`, { headers: { "retry-after": "5" }, cause: error });
  }
  return Response.json({ status: "ready", runs_in_flight: ctx.deps.runs.size });
}

/** GET /metrics: Prometheus text. */
export function metrics(ctx: AppContext): Response {
  const text = ctx.metrics.render({ runsInFlight: ctx.deps.runs.size, draining: ctx.deps.runs.draining }) + (ctx.deps.extraMetrics?.() ?? "");
  return new Response(text, { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } });
}
