/**
 * A real OpenAI-compatible HTTP server for tests and benchmarks: `POST /v1/chat/completions`
 * (JSON or SSE, whichever the request asks for) and `GET /v1/models`, on 127.0.0.1 and a free port.
 * Each chat request gets the next scripted reply; every request is recorded.
 *
 * @example
 * const fake = startFakeOpenAI([
 *   reply.toolCalls([{ name: "time", arguments: '{"zone":"Europe/Paris"}' }]),
 *   reply.error(500),
 *   reply.text("It is noon in Paris.", { usage: { prompt_tokens: 12, completion_tokens: 7 } }),
 * ]);
 * try {
 *   // point the client at fake.url ("http://127.0.0.1:PORT/v1"), then inspect fake.requests
 * } finally {
 *   await fake.stop();
 * }
 */

/** Token counts as the wire format names them. */
export interface FakeUsage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly cached_tokens?: number;
  readonly reasoning_tokens?: number;
}

/** Options shared by text and tool-call answers. */
export interface AnswerOptions {
  /** `null` sends no usage at all (some local servers do that). Default: 10 prompt, 5 completion tokens. */
  readonly usage?: FakeUsage | null;
  /** Raw finish reason; default "stop" for text, "tool_calls" for tool calls. */
  readonly finishReason?: string;
  /** The `model` field of the reply; default: the model the request named. */
  readonly model?: string;
  readonly id?: string;
  /** Wait this long before answering (aborted early when the client goes away). */
  readonly delayMs?: number;
  /** When streaming, wait this long between SSE chunks (default 1 ms). */
  readonly chunkDelayMs?: number;
}

/** A tool call to answer with; `id` defaults to `call_<n>`. */
export interface FakeToolCall {
  readonly id?: string;
  readonly name: string;
  readonly arguments: string;
}

/** An answer the model gives; rendered as one JSON body or as SSE chunks, as the request asks. */
export type FakeAnswer =
  | ({ readonly type: "text"; readonly text: string | readonly string[] } & AnswerOptions)
  | ({ readonly type: "tool_calls"; readonly calls: readonly FakeToolCall[]; readonly text?: string } & AnswerOptions);

/** One scripted reply to one chat request. */
export type FakeReply =
  | FakeAnswer
  /** An HTTP error with an OpenAI-style `{"error":{…}}` body (or `body` as given). */
  | {
      readonly type: "error";
      readonly status: number;
      readonly message?: string;
      readonly code?: string;
      readonly errorType?: string;
      readonly headers?: Readonly<Record<string, string>>;
      /** Replaces the OpenAI-style body; strings are sent as-is. */
      readonly body?: unknown;
    }
  /** Never answers; the request ends only when the client aborts or the server stops. */
  | { readonly type: "hang" }
  /** A 200 whose body is not a chat completion (or an SSE stream whose first event is not JSON). */
  | { readonly type: "garbage"; readonly body?: string }
  /**
   * Starts `answer` and breaks off after `afterChunks` SSE chunks (the first carries only the role):
   * `how: "close"` drops the connection, `"garbage"` sends an unparseable event, `"hang"` goes
   * silent until the client gives up. A non-streaming request gets a truncated body.
   */
  | { readonly type: "cut"; readonly answer: FakeAnswer; readonly afterChunks: number; readonly how?: CutHow }
  /**
   * A provider's own shape, sent byte for byte: `json` as a non-streaming answer (status 200),
   * `sse` (one write per string) as a streaming one; a stream request gets `json` when there is no `sse`.
   */
  | { readonly type: "raw"; readonly json?: unknown; readonly sse?: readonly string[] };

/** How a `cut` reply breaks off. */
export type CutHow = "close" | "garbage" | "hang";

/** A request as the server saw it. */
export interface RecordedRequest {
  readonly method: string;
  /** Path without the query, e.g. `/v1/chat/completions`. */
  readonly path: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  /** The parsed JSON body; undefined when there was none or it was not JSON. */
  readonly body: Readonly<Record<string, unknown>> | undefined;
  /** Whether the request asked for SSE (`"stream": true`). */
  readonly stream: boolean;
  /** `Date.now()` when it arrived. */
  readonly at: number;
}

/** Replies in order (one per chat request), or a function of the request and its 0-based index. */
export type FakeScript =
  | readonly FakeReply[]
  | ((request: RecordedRequest, index: number) => FakeReply | Promise<FakeReply>);

/** Options of the fake server. */
export interface FakeOpenAIOptions {
  /** When set, requests must carry `Authorization: Bearer <apiKey>` or get a 401 like OpenAI's. */
  readonly apiKey?: string;
  /** Ids listed by `GET /v1/models`; default `["fake-model"]`. */
  readonly models?: readonly string[];
}

/** A running fake server. */
export interface FakeOpenAI {
  /** Base URL ending in `/v1`, e.g. `http://127.0.0.1:41234/v1`. */
  readonly url: string;
  readonly port: number;
  /** Every request received, chat or not, in arrival order. */
  readonly requests: readonly RecordedRequest[];
  /** The chat requests only. */
  readonly chatRequests: () => readonly RecordedRequest[];
  /** Closes all connections (hanging ones too) and stops listening. */
  stop(): Promise<void>;
}

/** Builders for scripted replies, so scripts read like the conversation they fake. */
export const reply = {
  text: (text: string | readonly string[], options: AnswerOptions = {}): FakeReply => ({ type: "text", text, ...options }),
  toolCalls: (calls: readonly FakeToolCall[], options: AnswerOptions & { text?: string } = {}): FakeReply => ({
    type: "tool_calls",
    calls,
    ...options,
  }),
  error: (status: number, options: Omit<Extract<FakeReply, { type: "error" }>, "type" | "status"> = {}): FakeReply => ({
    type: "error",
    status,
    ...options,
  }),
  /** 429 with `Retry-After: <seconds>`. */
  rateLimited: (retryAfterSeconds: number | string): FakeReply => ({
    type: "error",
    status: 429,
    message: "Rate limit reached for requests",
    code: "rate_limit_exceeded",
    errorType: "requests",
    headers: { "retry-after": String(retryAfterSeconds) },
  }),
  /** 429 the way OpenAI says the account is out of credits. */
  quotaExhausted: (): FakeReply => ({
    type: "error",
    status: 429,
    message: "You exceeded your current quota, please check your plan and billing details.",
    code: "insufficient_quota",
    errorType: "insufficient_quota",
  }),
  hang: (): FakeReply => ({ type: "hang" }),
  raw: (shape: { readonly json?: unknown; readonly sse?: readonly string[] }): FakeReply => ({ type: "raw", ...shape }),
  garbage: (body?: string): FakeReply => (body === undefined ? { type: "garbage" } : { type: "garbage", body }),
  cut: (answer: FakeReply, afterChunks: number, how: CutHow = "close"): FakeReply => {
    if (answer.type !== "text" && answer.type !== "tool_calls") throw new Error("reply.cut needs a text or tool-call answer");
    return { type: "cut", answer, afterChunks, how };
  },
};

/** Starts the fake on 127.0.0.1 with a free port. Stop it in afterEach/afterAll. */
export function startFakeOpenAI(script: FakeScript, options: FakeOpenAIOptions = {}): FakeOpenAI {
  const requests: RecordedRequest[] = [];
  const chat: RecordedRequest[] = [];
  const releases = new Set<() => void>();

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    // A hanging reply must outlive Bun's default 10 s idle timeout when a test asks for it.
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const text = await req.text();
      const body = parseObject(text);
      const recorded: RecordedRequest = {
        method: req.method,
        path: url.pathname,
        headers: Object.fromEntries([...req.headers.entries()].map(([k, v]) => [k.toLowerCase(), v])),
        body,
        stream: body?.stream === true,
        at: Date.now(),
      };
      requests.push(recorded);

      if (options.apiKey !== undefined && req.headers.get("authorization") !== `Bearer ${options.apiKey}`) {
        return errorResponse({ type: "error", status: 401, message: "Incorrect API key provided.", code: "invalid_api_key", errorType: "invalid_request_error" });
      }
      if (req.method === "GET" && url.pathname === "/v1/models") {
        const data = (options.models ?? ["fake-model"]).map((id) => ({ id, object: "model", created: 0, owned_by: "fake" }));
        return Response.json({ object: "list", data });
      }
      if (req.method !== "POST" || url.pathname !== "/v1/chat/completions") {
        return errorResponse({ type: "error", status: 404, message: `fake-openai: no route ${req.method} ${url.pathname}` });
      }

      const index = chat.length;
      chat.push(recorded);
      const scripted = typeof script === "function" ? await script(recorded, index) : script[index];
      if (scripted === undefined) {
        return errorResponse({ type: "error", status: 500, message: `fake-openai: no scripted reply for chat request #${index + 1}` });
      }
      const model = typeof body?.model === "string" ? body.model : "fake-model";
      const includeUsage = isRecord(body?.stream_options) && body.stream_options.include_usage === true;
      return render(scripted, { stream: recorded.stream, model, includeUsage, index, signal: req.signal, releases });
    },
  });

  return {
    url: `http://127.0.0.1:${server.port}/v1`,
    port: server.port as number,
    requests,
    chatRequests: () => chat,
    async stop() {
      for (const release of releases) release();
      await server.stop(true);
    },
  };
}

/**
 * The fake servers of one test file: `start` starts one (as `startFakeOpenAI` does), `stopAll`
 * (in afterEach) stops every one started so far.
 *
 * @example
 * const { start: serve, stopAll: stopFakes } = createFakeOpenAIs();
 * afterEach(stopFakes);
 */
export function createFakeOpenAIs() {
  const started: FakeOpenAI[] = [];
  return {
    /** A new fake server answering from `script`, remembered for `stopAll`. */
    start(script: FakeScript, options: FakeOpenAIOptions = {}): FakeOpenAI {
      const fake = startFakeOpenAI(script, options);
      started.push(fake);
      return fake;
    },
    async stopAll(): Promise<void> {
      await Promise.all(started.splice(0).map((fake) => fake.stop()));
    },
  };
}

interface RenderContext {
  readonly stream: boolean;
  readonly model: string;
  readonly includeUsage: boolean;
  readonly index: number;
  readonly signal: AbortSignal;
  readonly releases: Set<() => void>;
}

async function render(scripted: FakeReply, context: RenderContext): Promise<Response> {
  switch (scripted.type) {
    case "error":
      return errorResponse(scripted);
    case "hang":
      await waitUntilReleased(context, undefined);
      return new Response(null, { status: 499 });
    case "garbage": {
      const body = scripted.body ?? "<html>this is not JSON{";
      if (context.stream) return sse([`data: ${body}\n\n`]);
      return new Response(body, { headers: { "content-type": "application/json" } });
    }
    case "text":
    case "tool_calls": {
      if (scripted.delayMs) await waitUntilReleased(context, scripted.delayMs);
      if (context.stream) return sse(chunkEvents(scripted, context), { chunkDelayMs: scripted.chunkDelayMs });
      return Response.json(completionBody(scripted, context));
    }
    case "raw":
      if (context.stream && scripted.sse) return sse(scripted.sse);
      return Response.json(scripted.json ?? null);
    case "cut": {
      if (!context.stream) {
        // Promise more bytes than we send, then close: the client sees a truncated body.
        const text = JSON.stringify(completionBody(scripted.answer, context));
        return sse([text.slice(0, Math.floor(text.length / 2))], { cut: true, contentType: "application/json" });
      }
      const events = chunkEvents(scripted.answer, context).slice(0, scripted.afterChunks);
      if (scripted.how === "garbage") return sse([...events, "data: {not json\n\n"]);
      if (scripted.how === "hang") return sse(events, { until: () => waitUntilReleased(context, undefined) });
      return sse(events, { cut: true });
    }
  }
}

/** Resolves after `ms` (or never when undefined), or as soon as the client aborts or the server stops. */
function waitUntilReleased(context: RenderContext, ms: number | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      context.releases.delete(done);
      context.signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = ms === undefined ? undefined : setTimeout(done, ms);
    context.releases.add(done);
    context.signal.addEventListener("abort", done, { once: true });
  });
}

function errorResponse(scripted: Extract<FakeReply, { type: "error" }>): Response {
  const headers = { ...scripted.headers };
  if (typeof scripted.body === "string") return new Response(scripted.body, { status: scripted.status, headers });
  const body = scripted.body ?? {
    error: {
      message: scripted.message ?? `fake-openai: HTTP ${scripted.status}`,
      type: scripted.errorType ?? (scripted.status >= 500 ? "server_error" : "invalid_request_error"),
      param: null,
      code: scripted.code ?? null,
    },
  };
  return Response.json(body, { status: scripted.status, headers });
}

function wireUsage(usage: FakeUsage) {
  return {
    prompt_tokens: usage.prompt_tokens,
    completion_tokens: usage.completion_tokens,
    total_tokens: usage.prompt_tokens + usage.completion_tokens,
    prompt_tokens_details: { cached_tokens: usage.cached_tokens ?? 0 },
    completion_tokens_details: { reasoning_tokens: usage.reasoning_tokens ?? 0 },
  };
}

const defaultUsage: FakeUsage = { prompt_tokens: 10, completion_tokens: 5 };

function answerText(answer: FakeAnswer): string {
  if (answer.type === "tool_calls") return answer.text ?? "";
  return typeof answer.text === "string" ? answer.text : answer.text.join("");
}

function wireCalls(answer: FakeAnswer) {
  if (answer.type !== "tool_calls") return [];
  return answer.calls.map((call, i) => ({
    id: call.id ?? `call_${i}`,
    type: "function" as const,
    function: { name: call.name, arguments: call.arguments },
  }));
}

function completionBody(answer: FakeAnswer, context: RenderContext) {
  const calls = wireCalls(answer);
  const text = answerText(answer);
  const usage = answer.usage === undefined ? defaultUsage : answer.usage;
  return {
    id: answer.id ?? `chatcmpl-fake-${context.index + 1}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: answer.model ?? context.model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: text === "" && calls.length > 0 ? null : text,
          refusal: null,
          ...(calls.length > 0 ? { tool_calls: calls } : {}),
        },
        logprobs: null,
        finish_reason: answer.finishReason ?? (answer.type === "tool_calls" ? "tool_calls" : "stop"),
      },
    ],
    ...(usage === null ? {} : { usage: wireUsage(usage) }),
  };
}

/** The answer as OpenAI streams it: role, text pieces, tool-call fragments, finish, usage (if asked). */
function chunkEvents(answer: FakeAnswer, context: RenderContext): string[] {
  const id = answer.id ?? `chatcmpl-fake-${context.index + 1}`;
  const model = answer.model ?? context.model;
  const created = Math.floor(Date.now() / 1000);
  const chunk = (delta: Record<string, unknown>, finish: string | null, extra: Record<string, unknown> = {}) =>
    `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...extra })}\n\n`;
  const events = [chunk({ role: "assistant", content: "" }, null)];
  const pieces = answer.type === "text" && typeof answer.text !== "string" ? answer.text : splitWords(answerText(answer));
  for (const piece of pieces) events.push(chunk({ content: piece }, null));
  wireCalls(answer).forEach((call, index) => {
    // Name first, then the arguments in two fragments, the way OpenAI splits them.
    events.push(chunk({ tool_calls: [{ index, id: call.id, type: "function", function: { name: call.function.name, arguments: "" } }] }, null));
    const args = call.function.arguments;
    const half = Math.ceil(args.length / 2);
    for (const part of [args.slice(0, half), args.slice(half)]) {
      if (part !== "") events.push(chunk({ tool_calls: [{ index, function: { arguments: part } }] }, null));
    }
  });
  events.push(chunk({}, answer.finishReason ?? (answer.type === "tool_calls" ? "tool_calls" : "stop")));
  const usage = answer.usage === undefined ? defaultUsage : answer.usage;
  if (context.includeUsage && usage !== null) {
    events.push(`data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices: [], usage: wireUsage(usage) })}\n\n`);
  }
  events.push("data: [DONE]\n\n");
  return events;
}

/** "a b c" → ["a", " b", " c"]: several deltas, and joining them gives the text back. */
function splitWords(text: string): string[] {
  return text === "" ? [] : (text.match(/\s*\S+\s*$|\s*\S+/g) ?? [text]);
}

/**
 * A streamed body. With `cut`, the connection is dropped after the events instead of closed
 * cleanly; with `until`, the body stays open (silent) until that promise settles.
 */
function sse(
  events: readonly string[],
  options: { cut?: boolean; until?: () => Promise<void>; contentType?: string; chunkDelayMs?: number | undefined } = {},
): Response {
  const encoder = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      for (const event of events) {
        controller.enqueue(encoder.encode(event));
        // Separate writes so the client really receives chunks one by one.
        await Bun.sleep(options.chunkDelayMs ?? 1);
      }
      if (options.until) await options.until();
      // Erroring the body makes Bun reset the connection mid-response. With `undefined` as the
      // reason Bun prints nothing; an Error would be logged as if it were a server bug.
      if (options.cut) controller.error(undefined);
      else controller.close();
    },
  });
  return new Response(stream, {
    headers: { "content-type": options.contentType ?? "text/event-stream", "cache-control": "no-cache" },
  });
}

function parseObject(text: string): Record<string, unknown> | undefined {
  if (text === "") return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
