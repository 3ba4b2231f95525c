/**
 * Shared by the durable-runs and approvals e2e tests: a tool service that counts its calls, a
 * model that calls it step after step, the config declaring it, and small clients of the runs API.
 * `stopStarted()` (in afterEach) stops every fake and service these made.
 */
import { expect } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createFakeOpenAIs, type FakeOpenAI, type RecordedRequest, reply } from "../fakes/fake-openai-server.ts";
import type { ServeProcess } from "./serve-process.ts";

const { start: startFake, stopAll: stopFakes } = createFakeOpenAIs();
const toolServices: ToolService[] = [];

/** Stops every fake model and tool service started through this module. */
export async function stopStarted(): Promise<void> {
  await stopFakes();
  for (const service of toolServices.splice(0)) service.stop();
}

/** A tool service that counts calls per `run`/`n` and can hold calls until released. */
export interface ToolService {
  readonly url: string;
  readonly calls: Map<string, number>;
  total(): number;
  /** Resolves once `count` calls have arrived in all. */
  reached(count: number): Promise<void>;
  /** Every later call waits here until `release()`. */
  hold(): void;
  release(): void;
  stop(): void;
}

export function toolService(delayMs = 0): ToolService {
  const calls = new Map<string, number>();
  let total = 0;
  const waiters: { count: number; wake: () => void }[] = [];
  let gate: Promise<void> | undefined;
  let open: (() => void) | undefined;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const body = (await req.json()) as { run: string; n: number };
      const key = `${body.run}/${body.n}`;
      calls.set(key, (calls.get(key) ?? 0) + 1);
      total++;
      for (const waiter of waiters.filter((w) => total >= w.count)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.wake();
      }
      if (gate) await gate;
      if (delayMs > 0) await Bun.sleep(delayMs);
      return Response.json({ counted: key });
    },
  });
  const service: ToolService = {
    url: `http://127.0.0.1:${server.port}/count`,
    calls,
    total: () => total,
    reached: (count) => (total >= count ? Promise.resolve() : new Promise((wake) => waiters.push({ count, wake }))),
    hold() {
      gate = new Promise((resolve) => (open = resolve));
    },
    release() {
      gate = undefined;
      open?.();
    },
    stop: () => server.stop(true),
  };
  toolServices.push(service);
  return service;
}

/** The run name a request is for, from its first user message ("run-7: …"). */
export function runOf(request: RecordedRequest): string {
  const messages = request.body?.["messages"] as { role: string; content: string }[];
  return messages.find((m) => m.role === "user")!.content.split(":")[0]!;
}

/** A model that calls `count` once per step, `steps` times, then answers. */
export function stepModel(steps: number): FakeOpenAI {
  const fake = startFake((request) => {
    const messages = request.body?.["messages"] as { role: string }[];
    const done = messages.filter((m) => m.role === "tool").length;
    const run = runOf(request);
    if (done >= steps) return reply.text(`${run} finished after ${done} tool results`);
    return reply.toolCalls([{ id: `c${done + 1}`, name: "count", arguments: JSON.stringify({ run, n: done + 1 }) }]);
  });
  return fake;
}

export function config(dir: string, tools: ToolService, idempotent = false): string {
  const path = join(dir, "skiff.toml");
  writeFileSync(
    path,
    `[[tools.http]]
name = "count"
description = "Counts a call"
url = "${tools.url}"
parameters = { type = "object", properties = { run = { type = "string" }, n = { type = "integer" } }, required = ["run", "n"] }
idempotent = ${idempotent}
`,
  );
  return path;
}

export interface RunObject {
  id: string;
  status: string;
  output?: string;
  attempt: number;
  steps?: { tool_calls: { output: string }[] }[];
  error?: { type: string; message: string };
}

export async function submit(server: ServeProcess, input: string, extra: Record<string, unknown> = {}): Promise<RunObject> {
  const res = await fetch(`${server.url}/v1/runs`, { method: "POST", body: JSON.stringify({ input, background: true, ...extra }) });
  expect(res.status).toBe(202);
  return (await res.json()) as RunObject;
}

export async function getRun(server: ServeProcess, id: string): Promise<RunObject> {
  const res = await fetch(`${server.url}/v1/runs/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as RunObject;
}

/** Polls until the run is in a final status; bounded by `limitMs`. */
export async function finished(server: ServeProcess, id: string, limitMs: number): Promise<RunObject> {
  const until = Date.now() + limitMs;
  for (;;) {
    const run = await getRun(server, id);
    if (["completed", "failed", "cancelled"].includes(run.status)) return run;
    if (Date.now() > until) throw new Error(`run ${id} still ${run.status} after ${limitMs} ms`);
    await Bun.sleep(100);
  }
}

export interface SseEvent {
  id: number;
  event: string;
  data: Record<string, unknown>;
}

/** Reads an event stream until `stopAfter` events (or its end), then cuts it. */
export async function readEvents(url: string, headers: Record<string, string>, stopAfter = Number.POSITIVE_INFINITY): Promise<SseEvent[]> {
  const controller = new AbortController();
  const res = await fetch(url, { headers, signal: controller.signal });
  expect(res.status).toBe(200);
  const events: SseEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for await (const chunk of res.body!) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n\n")) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields = Object.fromEntries(block.split("\n").filter((l) => !l.startsWith(":")).map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 2)]));
        if (fields["data"] === undefined) continue;
        events.push({ id: Number(fields["id"]), event: fields["event"]!, data: JSON.parse(fields["data"]) });
        if (events.length >= stopAfter) return events;
      }
    }
  } finally {
    controller.abort();
  }
  return events;
}
