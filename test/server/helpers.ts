/** Builds the HTTP app in process with fakes, and small helpers to call it. */
import type { RunLimits } from "../../src/agent/index.ts";
import type { Model } from "../../src/model/model.ts";
import { createApp, type App } from "../../src/server/app.ts";
import type { AppDeps, ServerSettings } from "../../src/server/deps.ts";
import { createLogger } from "../../src/server/logger.ts";
import { RunTracker } from "../../src/server/run-tracker.ts";
import { createMemorySessionStore } from "../../src/sessions/memory.ts";
import type { SessionStore } from "../../src/sessions/index.ts";
import type { Tool } from "../../src/tools/tool.ts";
import { createDemoModel } from "../../src/model/demo.ts";
import { builtinTools } from "../../src/tools/builtin/index.ts";

/** The bearer token test apps require. */
export const token = "test-token-0123456789abcdef";

export interface TestApp {
  readonly app: App;
  readonly runs: RunTracker;
  readonly store: SessionStore;
  /** Every log line the app wrote, parsed. */
  readonly logs: Record<string, unknown>[];
  /** Resolves once the app has written `count` log lines (a streamed request logs when its stream ends). */
  readonly logged: (count: number) => Promise<void>;
}

export interface TestAppOptions {
  readonly model?: Model;
  readonly tools?: readonly Tool[];
  /** Default: the test token; null: no auth. */
  readonly authToken?: string | null;
  readonly maxConcurrent?: number;
  readonly store?: SessionStore;
  readonly settings?: Partial<ServerSettings>;
  readonly limits?: Partial<RunLimits>;
  readonly system?: string;
  readonly extra?: Partial<AppDeps>;
}

/** An app with the demo model and its tools, a memory store and the test token, unless told otherwise. */
export function testApp(options: TestAppOptions = {}): TestApp {
  const logs: Record<string, unknown>[] = [];
  const waiters: { readonly count: number; readonly wake: () => void }[] = [];
  const write = (line: string) => {
    logs.push(JSON.parse(line) as Record<string, unknown>);
    for (let i = waiters.length - 1; i >= 0; i--) if (logs.length >= waiters[i]!.count) waiters.splice(i, 1)[0]!.wake();
  };
  const logged = (count: number) => {
    if (logs.length >= count) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    waiters.push({ count, wake: resolve });
    return promise;
  };
  const runs = new RunTracker(options.maxConcurrent ?? 100);
  const store = options.store ?? createMemorySessionStore();
  const authToken = options.authToken === undefined ? token : options.authToken;
  const app = createApp({
    model: options.model ?? createDemoModel(),
    tools: options.tools ?? [builtinTools["time"]!, builtinTools["calc"]!],
    store,
    runs,
    limits: { maxSteps: 10, timeoutMs: 60_000, toolTimeoutMs: 30_000, toolOutputLimit: 64 * 1024, ...options.limits },
    settings: { maxBodyBytes: 64 * 1024, maxTimeoutMs: 120_000, maxHistoryMessages: 50, ...options.settings },
    system: options.system ?? "You are a test assistant.",
    logger: createLogger({ level: "debug", format: "json", write }),
    ...(authToken === null ? {} : { authToken }),
    ...options.extra,
  });
  return { app, runs, store, logs, logged };
}

/** A request to the app, authorized with the test token unless `auth` is false. */
export function request(method: string, path: string, body?: unknown, init: { auth?: boolean; headers?: Record<string, string>; signal?: AbortSignal } = {}): Request {
  const headers: Record<string, string> = { ...init.headers };
  if (init.auth !== false) headers["authorization"] = `Bearer ${token}`;
  return new Request(`http://skiff.test${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    ...(init.signal ? { signal: init.signal } : {}),
  });
}

/** One server-sent event. */
export interface SseEvent {
  readonly event: string | undefined;
  readonly data: string;
}

/** Reads a whole event stream (comments skipped). */
export async function readSse(response: Response): Promise<SseEvent[]> {
  return parseSse(await response.text());
}

/** Parses event-stream text into events. */
export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  for (const block of text.split("\n\n")) {
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event: ")) event = line.slice(7);
      else if (line.startsWith("data: ")) data.push(line.slice(6));
    }
    if (data.length > 0) events.push({ event, data: data.join("\n") });
  }
  return events;
}

/** The error body of a response, checked to have the one error shape. */
export async function errorOf(response: Response): Promise<{ type: string; message: string; param: string | null; body: Record<string, unknown> }> {
  const body = (await response.json()) as { error: { type: string; message: string; param: string | null } };
  if (!body.error || typeof body.error.type !== "string" || typeof body.error.message !== "string" || !("param" in body.error)) {
    throw new Error(`not the error shape: ${JSON.stringify(body)}`);
  }
  return { ...body.error, body: body as unknown as Record<string, unknown> };
}

/** A tool that waits until aborted (or `ms`), and records that it was aborted. `running` resolves once a call has begun. */
export function slowTool(ms = 60_000): Tool & { started: number; aborted: number; running: Promise<void> } {
  const { promise: running, resolve: nowRunning } = Promise.withResolvers<void>();
  const tool = {
    name: "slow",
    description: "Waits",
    parameters: { type: "object", properties: {} },
    type: "function" as const,
    source: "test",
    started: 0,
    aborted: 0,
    running,
    execute(_args: unknown, context: { signal: AbortSignal }) {
      tool.started++;
      nowRunning();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => resolve("done"), ms);
        context.signal.addEventListener(
          "abort",
          () => {
            tool.aborted++;
            clearTimeout(timer);
            reject(context.signal.reason);
          },
          { once: true },
        );
      });
    },
  };
  return tool;
}
