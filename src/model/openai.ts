/**
 * The `Model` adapter for any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, Ollama,
 * llama.cpp server, LiteLLM, DeepSeek, Mistral, Gemini, Azure…). The only file in src/ that
 * imports the `openai` SDK, for its wire types and error classes: requests are one `fetch` each,
 * streams are read by skiff's own SSE reader (openai-stream.ts), and skiff owns retries
 * (retry-policy.ts), timeouts and spans.
 */
import { APIConnectionError, APIConnectionTimeoutError, APIError } from "openai/error";
import type { ChatCompletionCreateParamsNonStreaming, ChatCompletionCreateParamsStreaming } from "openai/resources/chat/completions";
import { buildInfo } from "../build-info.ts";
import { ConfigError, configIssue } from "../errors.ts";
import type { ChatSpan } from "../telemetry/tracer.ts";
import { sleep as abortableSleep } from "../util/abort.ts";
import { formatDuration } from "../util/duration.ts";
import { redactUrl } from "../util/redact-url.ts";
import type { Model, ModelRequest, ModelResponse } from "./model.ts";
import { type Completion, type EchoRules, fromWireCompletion, toWireMessages, toWireTools } from "./openai-convert.ts";
import { type Endpoint, errorText, type Failure, toModelError } from "./openai-errors.ts";
import { MalformedReplyError, ReplyError } from "./openai-reply.ts";
import { readCompletionStream, StreamAccumulator } from "./openai-stream.ts";
import { classifyFailure, parseRetryAfter, planRetry } from "./retry-policy.ts";

/** Settings of one OpenAI-compatible model; capabilities (`fetch`, clock, randomness, sleep) are injectable. */
export interface OpenAIModelOptions {
  readonly model: string;
  readonly baseURL: string;
  /** Omit for local endpoints that need no key (Ollama, llama.cpp). Never logged or shown. */
  readonly apiKey?: string;
  /** One request's time limit; while streaming, the longest silence between chunks. 0: no limit. */
  readonly llmTimeoutMs: number;
  /** Extra attempts after the first. */
  readonly retries: number;
  /** Longest wait accepted before a retry; a longer Retry-After fails at once. */
  readonly maxRetryWaitMs: number;
  /**
   * `gen_ai.provider.name` for hosts other than api.openai.com (default "openai"). "deepseek"
   * (also assumed on api.deepseek.com) turns on DeepSeek's rule for `reasoning_content`.
   */
  readonly providerName?: string;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Told of every retry before its wait, e.g. to write a log line. */
  readonly onRetry?: (retry: RetryNotice) => void;
}

/** One retry about to happen: which attempt failed, why, and how long skiff waits. */
export interface RetryNotice {
  readonly host: string;
  readonly model: string;
  readonly attempt: number;
  readonly waitMs: number;
  readonly reason: string;
}

const noopSpan: ChatSpan = { end() {}, fail() {}, event() {} };

/**
 * Creates a `Model` that talks to `baseURL` with one SDK client for its whole life.
 * @example createOpenAIModel({ model: "gpt-4.1-mini", baseURL: "https://api.openai.com/v1", apiKey, llmTimeoutMs: 60_000, retries: 2, maxRetryWaitMs: 30_000 })
 */
export function createOpenAIModel(options: OpenAIModelOptions): Model {
  const url = URL.parse(options.baseURL);
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new ConfigError([
      configIssue("base_url", `expected an http(s) URL such as https://api.openai.com/v1, got "${redactUrl(options.baseURL)}"`, { code: "invalid_value" }),
    ]);
  }
  const completionsUrl = new URL(url);
  completionsUrl.pathname = `${completionsUrl.pathname.replace(/\/+$/, "")}/chat/completions`;
  // The GenAI conventions name the provider by the instrumentation's best knowledge: the API spoken is
  // OpenAI's, so "openai" unless the caller knows better (e.g. "ollama" from config). api.openai.com is
  // always "openai", as the OpenAI span refinement requires.
  const provider = url.hostname === "api.openai.com" ? "openai" : (options.providerName ?? "openai");
  const target: Target = {
    completionsUrl: completionsUrl.href,
    // The same headers for streams: `accept: application/json` is what the SDK sends for both, and
    // what the providers were built against.
    headers: {
      "content-type": "application/json",
      accept: "application/json",
      "user-agent": `skiff/${buildInfo.version}`,
      ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
    },
    fetch: options.fetch ?? fetch,
    options,
    endpoint: { host: url.host, model: options.model, apiKey: options.apiKey, maxRetryWaitMs: options.maxRetryWaitMs },
    serverAddress: url.hostname.replace(/^\[(.*)\]$/, "$1"), // IPv6 without brackets, as server.address wants
    serverPort: url.port ? Number(url.port) : url.protocol === "http:" ? 80 : 443,
    provider,
    echo: { reasoningOnEveryAssistant: provider === "deepseek" || url.hostname === "api.deepseek.com" },
    now: options.now ?? Date.now,
    random: options.random ?? Math.random,
    sleep: options.sleep ?? abortableSleep,
  };
  // Every wait of a call (the request, its body, the pause before a retry) takes the request's signal.
  return { name: options.model, provider: target.provider, settlesOnAbort: true, complete: (request) => complete(target, request) };
}

interface Target {
  /** POST target of completions: base_url + /chat/completions, query kept. */
  readonly completionsUrl: string;
  /** Headers of every request, built once. */
  readonly headers: Readonly<Record<string, string>>;
  readonly fetch: typeof fetch;
  readonly options: OpenAIModelOptions;
  readonly endpoint: Endpoint;
  readonly serverAddress: string;
  readonly serverPort: number;
  readonly provider: string;
  /** What goes back to this provider besides the conversation itself. */
  readonly echo: EchoRules;
  readonly now: () => number;
  readonly random: () => number;
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** Wraps an error thrown by the caller's onDelta so it passes through unclassified and unretried. */
class CallerError {
  constructor(readonly error: unknown) {}
}

async function complete(target: Target, request: ModelRequest): Promise<ModelResponse> {
  const { options } = target;
  for (let attempt = 1; ; attempt++) {
    if (request.signal.aborted) throw request.signal.reason;
    const span =
      request.spans?.startChat({
        model: options.model,
        provider: target.provider,
        serverAddress: target.serverAddress,
        serverPort: target.serverPort,
        stream: request.onDelta !== undefined,
        ...(request.responseFormat === undefined ? {} : { outputType: "json" }),
        attempt,
        messages: request.messages,
        tools: request.tools,
      }) ?? noopSpan;
    const state = { textShown: false };
    try {
      const completion = await attemptOnce(target, request, state, span);
      const response: ModelResponse = { ...completion, provider: target.provider };
      span.end(response);
      return response;
    } catch (error) {
      if (request.signal.aborted) {
        span.fail(request.signal.reason);
        throw request.signal.reason;
      }
      if (error instanceof CallerError) {
        span.fail(error.error);
        throw error.error;
      }
      const failed = describeFailure(error, target.options.llmTimeoutMs, target.now());
      const { code, retryable } = classifyFailure(failed.failure);
      // Once text has reached the user, a second attempt would show a different answer after it.
      const canRetry = retryable && !state.textShown;
      const plan = planRetry({
        attempt,
        retries: options.retries,
        retryable: canRetry,
        retryAfterMs: failed.retryAfterMs,
        maxRetryWaitMs: options.maxRetryWaitMs,
        deadline: request.deadline,
        now: target.now(),
        random: target.random,
      });
      if (plan.action === "retry") {
        span.event("retry", { attempt, wait_ms: plan.waitMs, reason: code });
        options.onRetry?.({ host: target.endpoint.host, model: options.model, attempt, waitMs: plan.waitMs, reason: code });
        span.fail(toModelError(target.endpoint, failed, { code, retryable, attempt, textShown: false }));
        await target.sleep(plan.waitMs, request.signal);
        continue;
      }
      const modelError = toModelError(target.endpoint, failed, {
        code,
        retryable: canRetry,
        attempt,
        textShown: state.textShown,
        reason: plan.reason,
        ...(plan.waitMs === undefined ? {} : { refusedWaitMs: plan.waitMs }),
      });
      span.fail(modelError);
      throw modelError;
    }
  }
}

/** One HTTP request with its own timeout; streams when the caller wants deltas. */
async function attemptOnce(target: Target, request: ModelRequest, state: { textShown: boolean }, span: ChatSpan): Promise<Completion> {
  const { options } = target;
  const controller = new AbortController();
  const onAbort = () => controller.abort(request.signal.reason);
  request.signal.addEventListener("abort", onAbort, { once: true });
  let timedOut = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  // A whole-request limit would kill long but healthy streams, so for streams the limit is reset by
  // every chunk: it bounds the wait for the first byte and any silence after it.
  const armTimer = () => {
    clearTimeout(timer);
    if (options.llmTimeoutMs === 0) return; // llm_timeout 0: no limit of its own
    timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new APIConnectionTimeoutError());
    }, options.llmTimeoutMs);
  };
  const throwIfStopped = () => {
    if (request.signal.aborted) throw request.signal.reason;
    if (timedOut) throw new APIConnectionTimeoutError();
  };
  const params = {
    model: options.model,
    messages: toWireMessages(request.messages, target.echo),
    ...withTools(toWireTools(request.tools)),
    // Structured output; skiff checks the answer anyway, as not every endpoint enforces it.
    ...(request.responseFormat === undefined
      ? {}
      : { response_format: { type: "json_schema" as const, json_schema: { name: request.responseFormat.name, schema: request.responseFormat.schema } } }),
  };
  armTimer();
  try {
    if (!request.onDelta) {
      const response = await postCompletion(target, { ...params, stream: false }, controller.signal);
      const body = JSON.parse(await response.text()) as unknown;
      throwIfStopped();
      return fromWireCompletion(body, options.model);
    }
    const streamParams: ChatCompletionCreateParamsStreaming = { ...params, stream: true, stream_options: { include_usage: true } };
    const response = await postCompletion(target, streamParams, controller.signal);
    const onDelta = request.onDelta;
    const onText = (text: string) => {
      state.textShown = true;
      try {
        onDelta(text);
      } catch (error) {
        throw new CallerError(error);
      }
    };
    let body = response.body;
    const type = response.headers.get("content-type") ?? "";
    if (type.includes("json") && !type.includes("event-stream")) {
      // A server that ignores `stream: true` answers with one JSON body: read as one delta. (One
      // that labels its SSE as JSON is still read as SSE, as the SDK did.)
      const text = await response.text();
      throwIfStopped();
      if (text.trimStart().startsWith("{")) {
        const completion = fromWireCompletion(JSON.parse(text) as unknown, options.model);
        span.firstChunk?.();
        if (completion.message.content) onText(completion.message.content);
        return completion;
      }
      body = new Response(text).body;
    }
    const accumulator = new StreamAccumulator();
    let end: "done" | "eof";
    try {
      // The span takes its time to first chunk from the first bytes of the stream (later calls are ignored).
      const onBytes = () => {
        span.firstChunk?.();
        armTimer();
      };
      end = body ? await readCompletionStream(body, accumulator, { onBytes, onText }) : "eof";
    } catch (error) {
      throw error instanceof CallerError ? error : new StreamCut(error);
    }
    // Reading ends quietly when the request is aborted, so check why it ended.
    throwIfStopped();
    const completion = accumulator.result(options.model, end);
    if (!completion) throw new StreamCut(undefined);
    return completion;
  } catch (error) {
    // An abort or our own timer can surface as any fetch or body error; report what really happened.
    if (error instanceof CallerError || request.signal.aborted) throw error;
    if (timedOut) throw new APIConnectionTimeoutError();
    throw error;
  } finally {
    clearTimeout(timer);
    request.signal.removeEventListener("abort", onAbort);
  }
}

/**
 * One chat completion request as a single fetch; resolves with the response once it is known to
 * be a success. Completions are the service's hot path, so this skips the SDK's request pipeline
 * (per-request header merging, auth and log formatting: 0.2 ms and tens of KB of garbage a call,
 * measured in bench/README.md) while keeping the SDK's wire types for the body and its error
 * classes for failures, so retry classification is the same for every path.
 */
async function postCompletion(
  target: Target,
  params: ChatCompletionCreateParamsNonStreaming | ChatCompletionCreateParamsStreaming,
  signal: AbortSignal,
): Promise<Response> {
  const response = await target.fetch(target.completionsUrl, { method: "POST", headers: target.headers, body: JSON.stringify(params), signal });
  if (response.ok) return response;
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  // As the SDK does: the JSON error body when there is one, else the raw text as the message.
  throw APIError.generate(response.status, json as object | undefined, json === undefined ? text : undefined, response.headers);
}

function withTools(tools: ReturnType<typeof toWireTools>) {
  return tools ? { tools } : {};
}

/** The stream broke off after the response started (dropped connection, error event, garbage). */
class StreamCut {
  constructor(readonly cause: unknown) {}
}

/** Turns whatever one attempt threw into a Failure (the caller has already handled aborts). */
function describeFailure(error: unknown, llmTimeoutMs: number, now: number): Failure {
  if (error instanceof ReplyError || (error instanceof StreamCut && error.cause instanceof ReplyError)) {
    const reported = error instanceof ReplyError ? error : (error.cause as ReplyError);
    const failure = {
      kind: "reply_error" as const,
      ...(reported.status === undefined ? {} : { status: reported.status }),
      ...(reported.errorCode === undefined ? {} : { errorCode: reported.errorCode }),
      ...(reported.errorType === undefined ? {} : { errorType: reported.errorType }),
    };
    const code = reported.status ?? reported.errorCode;
    const where = error instanceof StreamCut ? "in the stream" : "in a 200 reply";
    return { failure, detail: `the provider reported an error ${where}${code === undefined ? "" : ` (code ${code})`}: ${reported.message}` };
  }
  if (error instanceof StreamCut) {
    if (error.cause === undefined) return { failure: { kind: "stream_cut" }, detail: "the stream ended before the model finished" };
    if (error.cause instanceof SyntaxError || error.cause instanceof MalformedReplyError) {
      return { failure: { kind: "bad_response" }, detail: `unreadable stream chunk (${errorText(error.cause)})` };
    }
    return { failure: { kind: "stream_cut" }, detail: `the stream broke off: ${errorText(error.cause)}` };
  }
  if (error instanceof APIConnectionTimeoutError) {
    return { failure: { kind: "timeout" }, detail: `no answer within ${formatDuration(llmTimeoutMs)}` };
  }
  if (error instanceof APIConnectionError) {
    const detail = error.cause === undefined ? error.message : `connection failed: ${errorText(error.cause)}`;
    return { failure: { kind: "connection" }, detail };
  }
  if (error instanceof APIError && error.status !== undefined) {
    const body: unknown = error.error;
    // Without a JSON error body the SDK's message is "<status> <body text>"; the status is shown anyway.
    const detail = isRecordWithMessage(body) ? body.message : error.message.replace(/^\d{3} /, "");
    const retryAfterMs = parseRetryAfter(error.headers, now);
    return {
      failure: {
        kind: "http",
        status: error.status,
        ...(typeof error.code === "string" ? { errorCode: error.code } : {}),
        ...(typeof error.type === "string" ? { errorType: error.type } : {}),
      },
      detail,
      status: error.status,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    };
  }
  if (error instanceof SyntaxError || error instanceof MalformedReplyError) {
    return { failure: { kind: "bad_response" }, detail: `unreadable reply (${errorText(error)})` };
  }
  // Reading the body failed after the headers arrived (the SDK passes those errors through raw).
  return { failure: { kind: "connection" }, detail: errorText(error) };
}

function isRecordWithMessage(value: unknown): value is { message: string } {
  return typeof value === "object" && value !== null && typeof (value as { message?: unknown }).message === "string";
}
