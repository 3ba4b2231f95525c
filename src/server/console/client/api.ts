/**
 * The console's client of skiff's public HTTP API: JSON requests with the bearer token, errors in
 * the API's one shape, and event streams read with fetch() (EventSource cannot send a header), with
 * reconnection by Last-Event-ID. No DOM here, so the tests run it against a real server.
 */
import { type SseEvent, SseDecoder } from "./sse.ts";

/** An answer of the API other than 2xx, with the API's own message. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: number,
    /** The API's `error.type`, e.g. `conflict_error`; undefined when the body was not the API's. */
    readonly type: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** How the client reaches the API. */
export interface ApiOptions {
  /** The URL the API's paths (`v1/runs`) are relative to, ending in "/". */
  readonly base: string;
  /** The bearer token to send, if any (read on every request: signing in changes it). */
  readonly token: () => string | undefined;
  /** Called on every 401, before the ApiError is thrown: the token is wrong or gone. */
  readonly onUnauthorized?: (error: ApiError) => void;
  readonly fetch?: (input: string, init: RequestInit) => Promise<Response>;
}

/** Events after which a run's stream ends. */
export const finalRunEvents: ReadonlySet<string> = new Set(["run.completed", "run.failed", "run.cancelled"]);

/** A small client of the public API. */
export class Api {
  private readonly fetcher: (input: string, init: RequestInit) => Promise<Response>;

  constructor(private readonly options: ApiOptions) {
    // Called as a plain function: the browser's fetch refuses another `this` than the window.
    this.fetcher = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** Sends a request; resolves to the 2xx response, else throws ApiError. */
  async request(method: string, path: string, init: { body?: unknown; signal?: AbortSignal; headers?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = { accept: "application/json", ...init.headers };
    const token = this.options.token();
    if (token !== undefined) headers["authorization"] = `Bearer ${token}`;
    if (init.body !== undefined) headers["content-type"] = "application/json";
    const response = await this.fetcher(new URL(path, this.options.base).href, {
      method,
      headers,
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      ...(init.signal === undefined ? {} : { signal: init.signal }),
      credentials: "omit",
      cache: "no-store",
    });
    if (response.ok) return response;
    const error = await errorOf(response);
    if (error.status === 401) this.options.onUnauthorized?.(error);
    throw error;
  }

  /** GET `path` as JSON. */
  async get<T>(path: string, signal?: AbortSignal): Promise<T> {
    const response = await this.request("GET", path, signal === undefined ? {} : { signal });
    return (await response.json()) as T;
  }

  /** POST `body` to `path`; the JSON answer. */
  async post<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    const response = await this.request("POST", path, signal === undefined ? { body } : { body, signal });
    return (await response.json()) as T;
  }

  /** POST `body` (which asks for `"stream": true`) and yields the events of the answer. */
  async *postStream(path: string, body: unknown, signal?: AbortSignal): AsyncGenerator<SseEvent> {
    const response = await this.request("POST", path, { body, headers: { accept: "text/event-stream" }, ...(signal === undefined ? {} : { signal }) });
    yield* readEvents(response);
  }

  /**
   * Follows `GET /v1/runs/{id}/events` until the run's final event, reconnecting with
   * Last-Event-ID when a connection breaks (at most `maxRetries` times in a row, `retryMs` apart),
   * so every event arrives once, in order. Resolves to why it stopped.
   */
  async followRun(id: string, onEvent: (event: SseEvent) => void, options: FollowOptions): Promise<"finished" | "aborted" | "gave_up"> {
    const { signal } = options;
    const decoder = new SseDecoder();
    let failures = 0;
    while (!signal.aborted) {
      try {
        decoder.discardPending();
        const last = decoder.lastEventId;
        const response = await this.request("GET", `v1/runs/${encodeURIComponent(id)}/events`, {
          signal,
          headers: { accept: "text/event-stream", ...(last === undefined ? {} : { "last-event-id": last }) },
        });
        for await (const event of readEvents(response, decoder)) {
          failures = 0;
          onEvent(event);
          if (finalRunEvents.has(event.event)) return "finished";
        }
      } catch (error) {
        if (signal.aborted) return "aborted";
        // The run or the token is wrong: trying again cannot help.
        if (error instanceof ApiError && error.status < 500 && error.status !== 408 && error.status !== 429) throw error;
      }
      if (++failures > (options.maxRetries ?? 30)) return "gave_up";
      await wait(options.retryMs ?? 1_000, signal);
    }
    return "aborted";
  }
}

/** Options of Api.followRun. */
export interface FollowOptions {
  readonly signal: AbortSignal;
  readonly retryMs?: number;
  readonly maxRetries?: number;
}

/** The events of a response's body, decoded as they arrive. */
export async function* readEvents(response: Response, decoder = new SseDecoder()): AsyncGenerator<SseEvent> {
  if (response.body === null) return;
  const reader = response.body.getReader();
  const text = new TextDecoder();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      yield* decoder.push(text.decode(value, { stream: true }));
    }
    yield* decoder.push(text.decode());
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/** The ApiError of a non-2xx response: the API's `{"error":{type,message}}`, else the status line. */
async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => "");
  try {
    const body = JSON.parse(text) as { error?: { type?: unknown; message?: unknown } };
    const message = body.error?.message;
    if (typeof message === "string") return new ApiError(response.status, typeof body.error?.type === "string" ? body.error.type : undefined, message);
  } catch {
    // Not the API's JSON (a proxy's page, say): the status says enough.
  }
  return new ApiError(response.status, undefined, `HTTP ${response.status} ${response.statusText}`.trim());
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
