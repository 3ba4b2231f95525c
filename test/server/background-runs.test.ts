/**
 * Background runs in process: 202 and the run object, status and result by id, queueing when the
 * server is full, cancel, and a shutdown that hands an unfinished run over to the next replica
 * (SQLite: a second app on the same file resumes it from its journal).
 */
import { afterEach, describe, expect, it } from "bun:test";
import { join } from "node:path";
import { createSqliteRunStore } from "../../src/runs/sqlite-runs.ts";
import { calcTool } from "../../src/tools/builtin/calc.ts";
import { ShutdownReason } from "../../src/server/run-tracker.ts";
import { createSqliteSessionStore } from "../../src/sessions/sqlite.ts";
import { call, scriptedModel } from "../fakes/scripted-model.ts";
import { createTempDirs } from "../helpers/temp-dirs.ts";
import { readSse, request, slowTool, testApp, type TestApp } from "./helpers.ts";

const { make: tempDir, removeAll } = createTempDirs("skiff-bg-");
afterEach(removeAll);

interface RunObject {
  id: string;
  status: string;
  output?: string;
  attempt: number;
  background: boolean;
  error?: { type: string };
}

async function submit(t: TestApp, body: Record<string, unknown>): Promise<RunObject> {
  const res = await t.app.fetch(request("POST", "/v1/runs", { background: true, ...body }));
  expect(res.status).toBe(202);
  expect(res.headers.get("location")).toMatch(/^\/v1\/runs\/run_/);
  return (await res.json()) as RunObject;
}

async function getRun(t: TestApp, id: string): Promise<RunObject> {
  const res = await t.app.fetch(request("GET", `/v1/runs/${id}`));
  expect(res.status).toBe(200);
  return (await res.json()) as RunObject;
}

/** Follows the run's event stream to its final event and returns the run then. */
async function untilFinished(t: TestApp, id: string): Promise<RunObject> {
  const events = await readSse(await t.app.fetch(request("GET", `/v1/runs/${id}/events`)));
  expect(["run.completed", "run.failed", "run.cancelled"]).toContain(String(events.at(-1)?.event));
  return getRun(t, id);
}

describe("background runs (memory store)", () => {
  it("answers 202 with the run, then its result by id and its events to the end", async () => {
    const t = testApp({ model: scriptedModel([{ toolCalls: [call("c1", "calc", { expression: "6*7" })] }, { text: "42" }]) });
    const run = await submit(t, { input: "what is 6*7?" });
    expect(run.background).toBe(true);
    const done = await untilFinished(t, run.id);
    expect(done).toMatchObject({ id: run.id, status: "completed", output: "42", attempt: 1 });
    const events = await readSse(await t.app.fetch(request("GET", `/v1/runs/${run.id}/events?after=0`)));
    expect(events.map((e) => e.event)).toEqual(["run.started", "step.started", "model.completed", "tool.started", "tool.finished", "step.started", "model.completed", "run.completed"]);
  });

  it("lists runs newest first, by status, page by page", async () => {
    const t = testApp();
    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      const run = await submit(t, { input: `what is ${n}*2?` });
      await untilFinished(t, run.id);
      ids.push(run.id);
    }
    const page = async (query: string) => (await (await t.app.fetch(request("GET", `/v1/runs${query}`))).json()) as { data: RunObject[]; has_more: boolean };
    const all = await page("");
    expect(all.data.map((r) => r.id)).toEqual([...ids].reverse());
    expect(all.data[0]).not.toHaveProperty("steps");
    const first = await page("?limit=2");
    expect(first.has_more).toBe(true);
    const next = await page(`?limit=2&before=${first.data.at(-1)!.id}`);
    expect([...first.data, ...next.data].map((r) => r.id)).toEqual([...ids].reverse());
    expect((await page("?status=running")).data).toEqual([]);
    expect((await t.app.fetch(request("GET", "/v1/runs?status=done"))).status).toBe(400);
    expect((await t.app.fetch(request("GET", "/v1/runs?limit=0"))).status).toBe(400);
  });

  it("refuses stream together with background, and answers 404 for an unknown run", async () => {
    const t = testApp();
    const res = await t.app.fetch(request("POST", "/v1/runs", { input: "hi", background: true, stream: true }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe("background");
    expect((await t.app.fetch(request("GET", "/v1/runs/run_missing"))).status).toBe(404);
    expect((await t.app.fetch(request("GET", "/v1/runs/run_missing/events"))).status).toBe(404);
    expect((await t.app.fetch(request("GET", "/v1/runs/bad%20id"))).status).toBe(400);
  });

  it("queues a run while the server is full and runs it when a slot frees; a queued run cancels at once", async () => {
    const tool = slowTool();
    const model = scriptedModel([{ toolCalls: [call("s", "slow", {})] }, { text: "second done" }]);
    const t = testApp({ model, tools: [tool], maxConcurrent: 1 });
    const first = await submit(t, { input: "one" });
    await tool.running;
    const second = await submit(t, { input: "two" });
    expect(second.status).toBe("queued");
    const third = await submit(t, { input: "three" });
    const cancelled = await t.app.fetch(request("POST", `/v1/runs/${third.id}/cancel`));
    expect(cancelled.status).toBe(200);
    expect(((await cancelled.json()) as RunObject).status).toBe("cancelled");
    // Cancel the running one: the slot frees and the queued run is claimed and runs.
    expect([200, 202]).toContain((await t.app.fetch(request("POST", `/v1/runs/${first.id}/cancel`))).status);
    expect((await untilFinished(t, first.id)).status).toBe("cancelled");
    expect(tool.aborted).toBe(1);
    const secondDone = await untilFinished(t, second.id);
    expect(secondDone).toMatchObject({ status: "completed", output: "second done" });
  });

  it("does not record foreground runs in memory: they are answered in their request", async () => {
    const t = testApp();
    const res = await t.app.fetch(request("POST", "/v1/runs", { input: "what is 2*3?" }));
    expect(res.status).toBe(200);
    const id = res.headers.get("x-skiff-run-id")!;
    expect((await t.app.fetch(request("GET", `/v1/runs/${id}`))).status).toBe(404);
  });
});

describe("background runs on SQLite", () => {
  it("records a foreground run too, so GET /v1/runs/{id} answers for it", async () => {
    const dir = tempDir();
    const t = testApp({ store: createSqliteSessionStore(join(dir, "s.db")), extra: { runStore: createSqliteRunStore(join(dir, "s.db")) } });
    const res = await t.app.fetch(request("POST", "/v1/runs", { input: "what is 2*3?" }));
    expect(res.status).toBe(200);
    const run = await getRun(t, String(res.headers.get("x-skiff-run-id")));
    expect(run).toMatchObject({ status: "completed", background: false, output: ((await res.json()) as { output: string }).output });
  });

  it("gives an unfinished run back at shutdown, and the next replica resumes it from its journal", async () => {
    const dir = tempDir();
    const db = join(dir, "s.db");
    const tool = slowTool();
    const first = testApp({
      model: scriptedModel([{ toolCalls: [call("c1", "calc", { expression: "1+1" })] }, { toolCalls: [call("s1", "slow", {})] }]),
      tools: [tool, calcTool],
      store: createSqliteSessionStore(db),
      extra: { runStore: createSqliteRunStore(db), replica: "first" },
      settings: { runLeaseMs: 60_000 },
    });
    const run = await submit(first, { input: "go" });
    await tool.running;
    first.runs.drain();
    first.runs.abortAll(new ShutdownReason());
    await first.runs.idle(5_000);
    await first.app.executor.idle();
    first.app.executor.stop();

    // The slow call had started and is not idempotent: the model is told it was interrupted.
    const model = scriptedModel([{ text: "resumed and done" }]);
    const second = testApp({ model, tools: [slowTool(), calcTool], store: createSqliteSessionStore(db), extra: { runStore: createSqliteRunStore(db), replica: "second" } });
    const done = await untilFinished(second, run.id);
    second.app.executor.stop();
    expect(done).toMatchObject({ status: "completed", output: "resumed and done", attempt: 2 });
    expect(model.requests).toHaveLength(1);
    const sent = model.requests[0]!.messages.filter((m) => m.role === "tool").map((m) => m.content);
    expect(sent[0]).toContain('"result":2');
    expect(sent[1]).toContain("interrupted");
    const events = await readSse(await second.app.fetch(request("GET", `/v1/runs/${run.id}/events`)));
    const resumed = events.find((e) => e.event === "run.resumed")!;
    expect(JSON.parse(resumed.data)).toMatchObject({ attempt: 2, replica: "second", steps_done: 2 });
  });
});
