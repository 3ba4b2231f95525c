import { describe, expect, it } from "bun:test";
import { ModelError } from "../../src/errors.ts";
import { calcTool } from "../../src/tools/builtin/calc.ts";
import type { Tracer } from "../../src/telemetry/tracer.ts";
import { noopTracer } from "../../src/telemetry/tracer.ts";
import { call, latch, scriptedModel } from "../fakes/scripted-model.ts";
import { errorOf, readSse, request, slowTool, testApp, token } from "./helpers.ts";

const question = "What time is it in Tokyo, and what is 17*23?";

describe("POST /v1/runs", () => {
  it("runs the agent and answers with the result's wire form", async () => {
    const { app } = testApp();
    const res = await app.fetch(request("POST", "/v1/runs", { input: question }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual([
      "id",
      "session_id",
      "schema_version",
      "output",
      "finish_reason",
      "steps",
      "usage",
      "cost_usd",
      "trace_id",
      "duration_ms",
    ]);
    expect(body["id"]).toMatch(/^run_[0-9a-f]{32}$/);
    expect(res.headers.get("x-skiff-run-id")).toBe(body["id"] as string);
    expect(body["session_id"]).toBeNull();
    expect(body["output"]).toContain("17*23 = 391");
    expect(body["finish_reason"]).toBe("stop");
    const steps = body["steps"] as { tool_calls: { name: string }[] }[];
    expect(steps).toHaveLength(2);
    expect(steps[0]!.tool_calls.map((c) => c.name).sort()).toEqual(["calc", "time"]);
  });

  it("accepts OpenAI-style messages as input and puts the configured system prompt first", async () => {
    const model = scriptedModel([{ text: "hello" }]);
    const { app } = testApp({ model, system: "Be brief." });
    const res = await app.fetch(
      request("POST", "/v1/runs", {
        input: [
          { role: "developer", content: "Answer in French." },
          { role: "user", content: [{ type: "text", text: "Say " }, { type: "text", text: "hi" }] },
        ],
      }),
    );
    expect(res.status).toBe(200);
    expect(model.requests[0]!.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "system", content: "Answer in French." },
      { role: "user", content: "Say hi" },
    ]);
  });

  it("continues a session: the history goes to the model and the turn is stored without system messages", async () => {
    const model = scriptedModel([{ toolCalls: [call("c1", "calc", { expression: "2+2" })] }, { text: "4" }, { text: "6" }]);
    const { app, store } = testApp({ model });
    const first = await app.fetch(request("POST", "/v1/runs", { input: "2+2?", session_id: "s-1" }));
    expect(((await first.json()) as { session_id: string }).session_id).toBe("s-1");
    const second = await app.fetch(request("POST", "/v1/runs", { input: [{ role: "system", content: "one-off" }, { role: "user", content: "3+3?" }], session_id: "s-1" }));
    expect(second.status).toBe(200);
    expect(model.requests[2]!.messages.map((m) => m.role)).toEqual(["system", "user", "assistant", "tool", "assistant", "system", "user"]);
    const stored = await store.get("s-1");
    expect(stored?.version).toBe(2);
    expect(stored?.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant", "user", "assistant"]);
  });

  it("returns max_steps as a finish reason with everything done so far", async () => {
    const model = scriptedModel([{ toolCalls: [call("c1", "calc", { expression: "1+1" })] }]);
    const { app } = testApp({ model });
    const res = await app.fetch(request("POST", "/v1/runs", { input: "loop", max_steps: 1 }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { finish_reason: string; steps: unknown[] };
    expect(body.finish_reason).toBe("max_steps");
    expect(body.steps).toHaveLength(1);
  });

  it("passes a well-formed traceparent to the run and ignores a malformed one", async () => {
    const seen: (string | undefined)[] = [];
    const tracer: Tracer = { startRun: (info) => (seen.push(info.traceparent), noopTracer.startRun(info)) };
    const { app } = testApp({ extra: { tracer } });
    const parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    await app.fetch(request("POST", "/v1/runs", { input: "hi" }, { headers: { traceparent: parent } }));
    await app.fetch(request("POST", "/v1/runs", { input: "hi" }, { headers: { traceparent: "00-not-a-trace-01" } }));
    expect(seen).toEqual([parent, undefined]);
  });

  it("streams the loop's events in order and ends with run.completed", async () => {
    const { app } = testApp();
    const res = await app.fetch(request("POST", "/v1/runs", { input: question, stream: true, session_id: "sse" }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const events = await readSse(res);
    const names = events.map((e) => e.event);
    expect(names[0]).toBe("run.started");
    expect(names[1]).toBe("step.started");
    expect(names.slice(2, 4)).toEqual(["tool.started", "tool.started"]);
    expect(names.slice(4, 6)).toEqual(["tool.finished", "tool.finished"]);
    expect(names[6]).toBe("step.started");
    expect(names.slice(7, -1).every((n) => n === "model.delta")).toBe(true);
    expect(names.at(-1)).toBe("run.completed");
    const started = JSON.parse(events[0]!.data) as { id: string; session_id: string };
    const completed = JSON.parse(events.at(-1)!.data) as { id: string; output: string; session_id: string };
    expect(completed.id).toBe(started.id);
    expect(completed.session_id).toBe("sse");
    const text = events.filter((e) => e.event === "model.delta").map((e) => (JSON.parse(e.data) as { text: string }).text).join("");
    expect(text).toBe(completed.output);
    const finished = JSON.parse(events[4]!.data) as Record<string, unknown>;
    expect(Object.keys(finished)).toEqual(["schema_version", "type", "step", "call_id", "name", "ok", "output", "duration_ms"]);
  });

  it("ends a failed stream with run.failed carrying the error and the partial result", async () => {
    const model = scriptedModel([{ error: new ModelError("provider said 503", { status: 503, retryable: true }) }]);
    const { app } = testApp({ model });
    const events = await readSse(await app.fetch(request("POST", "/v1/runs", { input: "hi", stream: true })));
    expect(events.at(-1)!.event).toBe("run.failed");
    const failed = JSON.parse(events.at(-1)!.data) as {
      error: { type: string; message: string; param: null };
      partial: { steps: { finish_reason: string }[]; finish_reason: string };
    };
    expect(failed.error).toEqual({ type: "model_error", message: "provider said 503", param: null });
    // The model call that failed is the step in progress: reported, without an answer.
    expect(failed.partial.steps.map((step) => step.finish_reason)).toEqual(["incomplete"]);
    expect(failed.partial.finish_reason).toBe("error");
  });
});

describe("POST /v1/runs errors", () => {
  const bad = async (body: unknown, expected: { param: string | null; message: RegExp }) => {
    const { app } = testApp();
    const res = await app.fetch(request("POST", "/v1/runs", body));
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.type).toBe("invalid_request_error");
    expect(error.param).toBe(expected.param);
    expect(error.message).toMatch(expected.message);
  };

  it("answers 400 naming the field for every malformed request", async () => {
    await bad("{not json", { param: null, message: /not valid JSON/ });
    await bad([1], { param: null, message: /expected object/ });
    await bad({}, { param: "input", message: /input is required/ });
    await bad({ input: "" }, { param: "input", message: /empty/ });
    await bad({ input: 42 }, { param: "input", message: /string or an array of chat messages/ });
    await bad({ input: "hi", bogus: 1 }, { param: "bogus", message: /unknown field "bogus"; the fields are input, session_id, stream, background, max_steps, timeout/ });
    await bad({ input: [{ role: "robot", content: "x" }] }, { param: "input[0].role", message: /role must be one of "system", "developer", "user", "assistant", "tool"/ });
    await bad({ input: [{ role: "user", content: [{ type: "image_url", image_url: {} }] }] }, { param: "input[0].content", message: /images and audio are not supported/ });
    await bad({ input: [{ role: "tool", content: "x" }] }, { param: "input[0].tool_call_id", message: /is required/ });
    await bad({ input: [{ role: "user", content: "a" }, { role: "assistant", content: "b" }] }, { param: "input", message: /last message must be from the user/ });
    await bad({ input: "hi", stream: "yes" }, { param: "stream", message: /expected boolean/ });
    await bad({ input: "hi", max_steps: 0 }, { param: "max_steps", message: />=1/ });
    await bad({ input: "hi", max_steps: 11 }, { param: "max_steps", message: /above the server's max_steps of 10/ });
    await bad({ input: "hi", timeout: "soon" }, { param: "timeout", message: /duration such as "30s"/ });
    await bad({ input: "hi", timeout: 0 }, { param: "timeout", message: /more than 0/ });
    await bad({ input: "hi", timeout: "1h" }, { param: "timeout", message: /1h is above the server's max_timeout of 2m/ });
    await bad({ input: "hi", session_id: "a/b" }, { param: "session_id", message: /1 to 128 of/ });
  });

  it("answers 400 for an empty body", async () => {
    const { app } = testApp();
    const error = await errorOf(await app.fetch(request("POST", "/v1/runs")));
    expect(error.message).toMatch(/body is empty/);
  });

  it("answers 401 without the token or with a wrong one, before routing", async () => {
    const { app } = testApp();
    for (const req of [
      request("POST", "/v1/runs", { input: "hi" }, { auth: false }),
      request("POST", "/v1/runs", { input: "hi" }, { auth: false, headers: { authorization: "Bearer wrong-token-0123456789" } }),
      request("POST", "/v1/runs", { input: "hi" }, { auth: false, headers: { authorization: `Basic ${token}` } }),
      request("GET", "/v1/no-such-route", undefined, { auth: false }),
    ]) {
      const res = await app.fetch(req);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe('Bearer realm="skiff"');
      expect((await errorOf(res)).type).toBe("authentication_error");
    }
  });

  it("answers 404 for unknown routes and 405 with Allow for wrong methods", async () => {
    const { app } = testApp();
    const missing = await app.fetch(request("GET", "/v1/nothing"));
    expect(missing.status).toBe(404);
    expect((await errorOf(missing)).type).toBe("not_found_error");
    const wrong = await app.fetch(request("GET", "/v1/chat/completions"));
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST");
    expect((await errorOf(wrong)).message).toBe("GET is not allowed on /v1/chat/completions; use POST");
    const put = await app.fetch(request("PUT", "/v1/runs"));
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("POST, GET");
  });

  it("answers 413 for a body over max_body, by Content-Length or while reading a chunked body", async () => {
    const { app } = testApp({ settings: { maxBodyBytes: 1000 } });
    const big = JSON.stringify({ input: "x".repeat(2000) });
    const declared = await app.fetch(request("POST", "/v1/runs", big));
    expect(declared.status).toBe(413);
    expect((await errorOf(declared)).message).toMatch(/larger than the server's max_body of 1000 B/);
    let pulled = 0;
    const chunked = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new TextEncoder().encode("x".repeat(400)));
        if (pulled > 100) controller.close();
      },
    });
    const res = await app.fetch(new Request("http://skiff.test/v1/runs", { method: "POST", body: chunked, headers: { authorization: `Bearer ${token}` } }));
    expect(res.status).toBe(413);
    expect(pulled).toBeLessThan(10);
  });

  it("answers 409 to a second run on a busy session, and lets it in once the first is done", async () => {
    const release = latch();
    const model = scriptedModel([{ text: "first", until: release.promise }, { text: "second" }]);
    const { app } = testApp({ model });
    const first = app.fetch(request("POST", "/v1/runs", { input: "a", session_id: "busy" }));
    await model.started(1);
    const second = await app.fetch(request("POST", "/v1/runs", { input: "b", session_id: "busy" }));
    expect(second.status).toBe(409);
    expect(await errorOf(second)).toMatchObject({ type: "conflict_error", param: "session_id" });
    release.open();
    expect((await first).status).toBe(200);
    expect((await app.fetch(request("POST", "/v1/runs", { input: "c", session_id: "busy" }))).status).toBe(200);
  });

  it("answers 429 with Retry-After over max_concurrent", async () => {
    const release = latch();
    const model = scriptedModel([{ text: "slow", until: release.promise }, { text: "next" }]);
    const { app, runs } = testApp({ model, maxConcurrent: 1 });
    const first = app.fetch(request("POST", "/v1/runs", { input: "a" }));
    await model.started(1);
    expect(runs.size).toBe(1);
    const refused = await app.fetch(request("POST", "/v1/runs", { input: "b" }));
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect((await errorOf(refused)).message).toMatch(/limit of 1 runs at once \(server\.max_concurrent\)/);
    release.open();
    expect((await first).status).toBe(200);
    expect(runs.size).toBe(0);
  });

  it("answers 503 to new runs while draining", async () => {
    const { app, runs } = testApp();
    runs.drain();
    const res = await app.fetch(request("POST", "/v1/runs", { input: "hi" }));
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    expect((await errorOf(res)).type).toBe("service_unavailable");
  });

  it("answers 504 with what the run did when its timeout passes, and stops the tool", async () => {
    const slow = slowTool();
    const model = scriptedModel([{ toolCalls: [call("c1", "calc", { expression: "1+1" })] }, { toolCalls: [call("c2", "slow", {})] }]);
    const { app, runs } = testApp({ model, tools: [slow, calcTool] });
    const res = await app.fetch(request("POST", "/v1/runs", { input: "hi", timeout: 0.3 }));
    expect(res.status).toBe(504);
    const error = await errorOf(res);
    expect(error.type).toBe("timeout_error");
    expect(error.message).toMatch(/did not finish within its timeout of 300ms/);
    const partial = error.body["partial"] as { id: string; steps: { tool_calls: { output: string }[] }[]; usage: { input_tokens: number } };
    expect(partial.id).toBe(res.headers.get("x-skiff-run-id")!);
    // Step 1 finished; step 2 was cut short in its tool, and its model call still counts.
    expect(partial.steps).toHaveLength(2);
    expect(partial.steps[0]!.tool_calls[0]!.output).toContain('"result":2');
    expect(partial.steps[1]!.tool_calls).toHaveLength(0);
    expect(partial.usage.input_tokens).toBe(20);
    expect(slow.aborted).toBe(1);
    expect(runs.size).toBe(0);
  });

  it("answers 502 when the model fails", async () => {
    const model = scriptedModel([{ error: new ModelError("upstream said 500", { status: 500, retryable: true }) }]);
    const { app } = testApp({ model });
    const res = await app.fetch(request("POST", "/v1/runs", { input: "hi" }));
    expect(res.status).toBe(502);
    expect(await errorOf(res)).toMatchObject({ type: "model_error", message: "upstream said 500" });
  });

  it("aborts the run and its tool when the client goes away", async () => {
    const slow = slowTool();
    const model = scriptedModel([{ toolCalls: [call("c1", "slow", {})] }]);
    const { app, runs, logs } = testApp({ model, tools: [slow] });
    const client = new AbortController();
    const pending = app.fetch(request("POST", "/v1/runs", { input: "hi" }, { signal: client.signal }));
    await slow.running;
    expect(slow.started).toBe(1);
    client.abort();
    const res = await pending;
    expect(res.status).toBe(499);
    expect(slow.aborted).toBe(1);
    expect(runs.size).toBe(0);
    expect(logs.at(-1)).toMatchObject({ route: "/v1/runs", status: 499, outcome: "cancelled" });
  });

  it("aborts a streamed run and its tool when the reader cancels the stream", async () => {
    const slow = slowTool();
    const model = scriptedModel([{ toolCalls: [call("c1", "slow", {})] }]);
    const { app, runs } = testApp({ model, tools: [slow] });
    const res = await app.fetch(request("POST", "/v1/runs", { input: "hi", stream: true }));
    const reader = res.body!.getReader();
    const seen: string[] = [];
    const decoder = new TextDecoder();
    while (!seen.join("").includes("tool.started")) seen.push(decoder.decode((await reader.read()).value));
    await reader.cancel();
    expect(await runs.idle(5_000)).toBe(true);
    expect(slow.aborted).toBe(1);
    expect(runs.size).toBe(0);
  });
});
