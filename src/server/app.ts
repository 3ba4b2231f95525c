import type { RunExecutor } from "../runs/executor.ts";
import { type AppContext, createContext, type RequestInfo } from "./context.ts";
import type { AppDeps } from "./deps.ts";
import { HttpError } from "./http-error.ts";
import type { KeyRing } from "./key-ring.ts";
import { errorCodeOf } from "./run-errors.ts";
import { postChatCompletion } from "./routes/chat-completions.ts";
import { getModel, getTools, healthz, listModels, metrics, readyz } from "./routes/info.ts";
import { cancelRunObject, getRunEvents, getRunObject, listRunObjects, postApprovals } from "./routes/run-objects.ts";
import { postRun } from "./routes/runs.ts";
import { deleteSession, getSession } from "./routes/sessions.ts";
import { getUsage } from "./routes/usage.ts";
import { openRequestSpan } from "./request-span.ts";
import { serveConsole } from "./console/serve-console.ts";

/** The service as a plain fetch handler; `serve.ts` hands it to Bun.serve, tests call it directly. */
export interface App {
  readonly fetch: (req: Request) => Promise<Response>;
  /** Durable runs on this replica (started with the app; `stop()` it at shutdown, after the drain). */
  readonly executor: RunExecutor;
  /** The keys and token requests are checked against; `replace` them to reload (SIGHUP). */
  readonly keys: KeyRing;
}

type Handler = (ctx: AppContext, req: Request, info: RequestInfo, param: string) => Response | Promise<Response>;

interface Route {
  /** The pattern logs and metrics use, e.g. `/v1/sessions/{id}`. */
  readonly route: string;
  readonly methods: Readonly<Record<string, Handler>>;
  /** The method that runs the agent here: with tracing on, each such request gets a SERVER span, the parent of its run. */
  readonly runsAgent?: string;
}

const exactRoutes = new Map<string, Route>([
  ["/v1/runs", { route: "/v1/runs", methods: { POST: postRun, GET: (ctx, req) => listRunObjects(ctx, req) }, runsAgent: "POST" }],
  ["/v1/chat/completions", { route: "/v1/chat/completions", methods: { POST: postChatCompletion }, runsAgent: "POST" }],
  ["/v1/tools", { route: "/v1/tools", methods: { GET: getTools } }],
  ["/v1/models", { route: "/v1/models", methods: { GET: listModels } }],
  ["/v1/usage", { route: "/v1/usage", methods: { GET: getUsage } }],
  ["/healthz", { route: "/healthz", methods: { GET: healthz } }],
  ["/readyz", { route: "/readyz", methods: { GET: readyz } }],
  ["/metrics", { route: "/metrics", methods: { GET: metrics } }],
]);

/** Routes ending in one path parameter. */
const paramRoutes: readonly (readonly [string, Route])[] = [
  [
    "/v1/sessions/",
    {
      route: "/v1/sessions/{id}",
      methods: { GET: (ctx, _req, _info, id) => getSession(ctx, id), DELETE: (ctx, _req, _info, id) => deleteSession(ctx, id) },
    },
  ],
  ["/v1/models/", { route: "/v1/models/{id}", methods: { GET: (_ctx, _req, _info, id) => getModel(id) } }],
  ["/v1/runs/", { route: "/v1/runs/{id}", methods: { GET: (ctx, _req, _info, id) => getRunObject(ctx, id) } }],
];

/** Routes of one path parameter followed by a fixed last segment, keyed by that segment. */
const paramSuffixRoutes: readonly (readonly [prefix: string, suffix: string, Route])[] = [
  ["/v1/runs/", "/events", { route: "/v1/runs/{id}/events", methods: { GET: getRunEvents } }],
  ["/v1/runs/", "/cancel", { route: "/v1/runs/{id}/cancel", methods: { POST: (ctx, _req, _info, id) => cancelRunObject(ctx, id) } }],
  ["/v1/runs/", "/approvals", { route: "/v1/runs/{id}/approvals", methods: { POST: postApprovals } }],
];

/** The web console: `/ui` and every path under `/ui/`; its files need no token (the page asks for one). */
const consoleRoute: Route = { route: "/ui/", methods: { GET: serveConsole } };

/**
 * Builds the HTTP service (DESIGN §7) as a fetch handler: bearer auth on /v1/, routing, one error
 * shape, and one log line per request.
 *
 * @example
 * const app = createApp({ model, tools, store, runs: new RunTracker(100), limits, settings });
 * const res = await app.fetch(new Request("http://x/v1/runs", { method: "POST", body: '{"input":"hi"}' }));
 */
export function createApp(deps: AppDeps): App {
  const ctx = createContext(deps);
  ctx.executor.start();

  const handle = async (req: Request, path: string, found: FoundRoute | undefined, info: RequestInfo): Promise<Response> => {
    if (found) info.route = found.route.route;
    // Authenticate before answering 404/405, so unknown /v1/ paths reveal nothing to an anonymous caller.
    if (path.startsWith("/v1/")) {
      info.caller = ctx.keys.authenticate(req);
      if (info.caller.kind === "key") info.keyName = info.caller.key.name;
    }
    if (!found) throw new HttpError(404, "not_found_error", `no route ${path}; see docs/http-api.md for the routes`);
    const methods = found.route.methods;
    // HEAD is GET without the body (probes use it); fetch() drops the body.
    const handler = methods[req.method] ?? (req.method === "HEAD" ? methods["GET"] : undefined);
    if (!handler) {
      const allowed = Object.keys(methods).join(", ");
      throw new HttpError(405, "method_not_allowed", `${req.method} is not allowed on ${found.route.route}; use ${allowed}`, {
        headers: { allow: allowed },
      });
    }
    return handler(ctx, req, info, found.param);
  };

  return {
    executor: ctx.executor,
    keys: ctx.keys,
    async fetch(req) {
      const started = performance.now();
      const path = pathOf(req.url);
      const info: RequestInfo = { route: "unmatched" };
      const found = findRoute(path);
      // Only requests that run the agent, and only with tracing on: health checks and polls make no traces.
      const span = found?.route.runsAgent === req.method ? openRequestSpan(ctx.tracer, req, found.route.route, path) : undefined;
      let response: Response;
      try {
        response = await handle(req, path, found, info);
      } catch (error) {
        response = errorResponse(error, info);
      }
      if (req.method === "HEAD" && response.body !== null) response = await withoutBody(response);
      const finish = () => {
        const status = info.status ?? response.status;
        span?.end(status);
        logRequest(ctx, req.method, status, started, info);
      };
      if (info.finished) info.finished.catch((error: unknown) => (info.errorCode = errorCodeOf(error))).finally(finish);
      else finish();
      return response;
    },
  };
}

interface FoundRoute {
  readonly route: Route;
  readonly param: string;
}

function findRoute(path: string): FoundRoute | undefined {
  const exact = exactRoutes.get(path);
  if (exact) return { route: exact, param: "" };
  for (const [prefix, suffix, route] of paramSuffixRoutes) {
    if (!path.startsWith(prefix) || !path.endsWith(suffix)) continue;
    const raw = path.slice(prefix.length, path.length - suffix.length);
    if (raw === "" || raw.includes("/")) continue;
    const param = decodeParam(raw);
    return param === undefined ? undefined : { route, param };
  }
  for (const [prefix, route] of paramRoutes) {
    if (!path.startsWith(prefix)) continue;
    const raw = path.slice(prefix.length);
    if (raw === "" || raw.includes("/")) return undefined;
    const param = decodeParam(raw);
    return param === undefined ? undefined : { route, param };
  }
  if (path === "/ui" || path.startsWith("/ui/")) return { route: consoleRoute, param: path.slice("/ui".length) };
  return undefined;
}

function decodeParam(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

/** The path of a request URL, without building a URL object. */
function pathOf(url: string): string {
  // Bun passes the bare path when a request has no Host header (HTTP/1.0 health checks, such as
  // HAProxy's default httpchk).
  const start = url.startsWith("/") ? 0 : url.indexOf("/", url.indexOf("//") + 2);
  if (start === -1) return "/";
  const query = url.indexOf("?", start);
  return query === -1 ? url.slice(start) : url.slice(start, query);
}

/**
 * A HEAD answer: the GET response's status and headers, and the Content-Length its body would
 * have, without the body. (Every GET route answers a small, whole body, never a stream.)
 */
async function withoutBody(response: Response): Promise<Response> {
  const headers = new Headers(response.headers);
  headers.set("content-length", String((await response.arrayBuffer()).byteLength));
  return new Response(null, { status: response.status, statusText: response.statusText, headers });
}

function errorResponse(error: unknown, info: RequestInfo): Response {
  if (error instanceof HttpError) {
    // A dependency that failed (a 503 from the session store): its code goes to the log.
    if (error.status >= 500 && error.cause !== undefined) info.errorCode = errorCodeOf(error.cause);
    return error.toResponse();
  }
  // A bug: the client gets a generic 500 and the log gets the error's code, never its content.
  info.errorCode = errorCodeOf(error);
  return new HttpError(500, "server_error", "internal error; see the server log").toResponse();
}

function logRequest(ctx: AppContext, method: string, status: number, started: number, info: RequestInfo): void {
  ctx.metrics.recordRequest(info.route, method, status);
  ctx.logger.log(status >= 500 ? "error" : "info", "request", {
    method,
    route: info.route,
    status,
    duration_ms: Math.round((performance.now() - started) * 100) / 100,
    key: info.keyName,
    run_id: info.runId,
    trace_id: info.traceId,
    outcome: info.outcome,
    error_code: info.errorCode,
  });
}
