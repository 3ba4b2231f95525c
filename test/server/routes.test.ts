import { describe, expect, it } from "bun:test";
import { createGenAiMetrics } from "../../src/telemetry/metrics.ts";
import { createMetricsTracer } from "../../src/telemetry/metrics-tracer.ts";
import { latch, scriptedModel } from "../fakes/scripted-model.ts";
import { errorOf, request, testApp, token } from "./helpers.ts";

describe("GET/DELETE /v1/sessions/{id}", () => {
  it("returns a session's messages in the form input accepts, then deletes it", async () => {
    const { app } = testApp();
    await app.fetch(request("POST", "/v1/runs", { input: "what is 6*7?", session_id: "chat:42" }));
    const res = await app.fetch(request("GET", "/v1/sessions/chat%3A42"));
    expect(res.status).toBe(200);
    const session = (await res.json()) as { id: string; turns: number; messages: Record<string, unknown>[]; created_at: string };
    expect(session.id).toBe("chat:42");
    expect(session.turns).toBe(1);
    expect(session.created_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(session.messages.map((m) => m["role"])).toEqual(["user", "assistant", "tool", "assistant"]);
    expect(session.messages[1]).toEqual({
      role: "assistant",
      content: null,
      tool_calls: [{ id: "call_1_calc", type: "function", function: { name: "calc", arguments: '{"expression":"6*7"}' } }],
    });
    // The stored messages can be sent back as input.
    const again = await app.fetch(request("POST", "/v1/runs", { input: [...session.messages, { role: "user", content: "thanks" }] }));
    expect(again.status).toBe(200);

    const deleted = await app.fetch(request("DELETE", "/v1/sessions/chat:42"));
    expect(await deleted.json()).toEqual({ id: "chat:42", deleted: true });
    expect((await app.fetch(request("GET", "/v1/sessions/chat:42"))).status).toBe(404);
    const gone = await app.fetch(request("DELETE", "/v1/sessions/chat:42"));
    expect(gone.status).toBe(404);
    expect(await errorOf(gone)).toMatchObject({ type: "not_found_error", param: "id" });
  });

  it("refuses to delete a session while a run on it is in progress", async () => {
    const release = latch();
    const model = scriptedModel([{ text: "slow", until: release.promise }]);
    const { app } = testApp({ model });
    const run = app.fetch(request("POST", "/v1/runs", { input: "a", session_id: "s" }));
    await model.started(1);
    const res = await app.fetch(request("DELETE", "/v1/sessions/s"));
    expect(res.status).toBe(409);
    release.open();
    expect((await run).status).toBe(200);
  });

  it("answers 400 for an invalid id and 405 for other methods", async () => {
    const { app } = testApp();
    expect((await app.fetch(request("GET", `/v1/sessions/${"x".repeat(129)}`))).status).toBe(400);
    const wrong = await app.fetch(request("POST", "/v1/sessions/s"));
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("GET, DELETE");
  });
});

describe("GET /v1/tools", () => {
  it("lists the enabled tools with their JSON Schemas", async () => {
    const { app } = testApp();
    const body = (await (await app.fetch(request("GET", "/v1/tools"))).json()) as { tools: { name: string; parameters: { type: string } }[] };
    expect(body.tools.map((t) => t.name)).toEqual(["time", "calc"]);
    expect(body.tools[0]!.parameters.type).toBe("object");
  });
});

describe("health, readiness and metrics", () => {
  it("serve /healthz, /readyz and /metrics without a token", async () => {
    const { app } = testApp();
    expect(await (await app.fetch(request("GET", "/healthz", undefined, { auth: false }))).json()).toEqual({ status: "ok" });
    expect(await (await app.fetch(request("GET", "/readyz", undefined, { auth: false }))).json()).toEqual({ status: "ready", runs_in_flight: 0 });
    expect((await app.fetch(request("GET", "/metrics", undefined, { auth: false }))).status).toBe(200);
  });

  it("/readyz answers 503 once draining starts", async () => {
    const { app, runs } = testApp();
    runs.drain();
    const res = await app.fetch(request("GET", "/readyz"));
    expect(res.status).toBe(503);
    expect((await errorOf(res)).type).toBe("service_unavailable");
  });

  it("/metrics counts runs by outcome, durations, tokens and runs in flight", async () => {
    const model = scriptedModel([
      { toolCalls: [{ id: "c1", name: "calc", arguments: '{"expression":"1+2"}' }] },
      { text: "3" },
      // Answers only when aborted: the run's 50 ms timeout ends it.
      { hang: true },
    ]);
    // As `serve` wires it: the GenAI recorder fed by the tracer port supplies the durations.
    const genAi = createGenAiMetrics();
    const { app } = testApp({ model, extra: { tracer: createMetricsTracer({ metrics: genAi }), extraMetrics: () => `${genAi.renderPrometheus()}# extra\n` } });
    await app.fetch(request("POST", "/v1/runs", { input: "what is 1+2?" }));
    expect((await app.fetch(request("POST", "/v1/runs", { input: "hi", timeout: 0.05 }))).status).toBe(504);
    const text = await (await app.fetch(request("GET", "/metrics"))).text();
    expect(text).toContain('skiff_runs_total{outcome="completed"} 1');
    expect(text).toContain('skiff_runs_total{outcome="timeout"} 1');
    expect(text).toContain("# TYPE gen_ai_invoke_agent_duration_seconds histogram");
    expect(text).toMatch(/gen_ai_invoke_agent_duration_seconds_count\{gen_ai_agent_name="skiff",gen_ai_request_model="[^"]+"\} 1\n/);
    expect(text).toMatch(/gen_ai_invoke_agent_duration_seconds_count\{error_type="run_timeout",gen_ai_agent_name="skiff",gen_ai_request_model="[^"]+"\} 1\n/);
    expect(text).toMatch(/gen_ai_client_operation_duration_seconds_count\{[^}]*gen_ai_provider_name="test"[^}]*\} 2\n/);
    expect(text).toContain('gen_ai_execute_tool_duration_seconds_count{gen_ai_agent_name="skiff",gen_ai_tool_name="calc",gen_ai_tool_type="function"} 1\n');
    // One set of duration histograms, not two.
    expect(text).not.toContain("skiff_run_duration_seconds");
    expect(text).toMatch(/skiff_tokens_total\{type="input"\} [1-9]\d*/);
    expect(text).toContain("skiff_runs_in_flight 0");
    expect(text).toContain('skiff_http_requests_total{route="/v1/runs",method="POST",status="200"} 1');
    expect(text).toMatch(/process_resident_memory_bytes \d+/);
    expect(text.endsWith("# extra\n")).toBe(true);
  });
});

describe("request logs", () => {
  it("write one line per request with ids and timings, and never content or the token", async () => {
    const { app, logs, logged } = testApp();
    const secretQuestion = "my password is hunter2, what is 2+2?";
    await app.fetch(request("POST", "/v1/runs", { input: secretQuestion, session_id: "private-session" }));
    await app.fetch(request("POST", "/v1/runs", { input: secretQuestion, stream: true })).then((r) => r.text());
    // The streamed run's line is written once its stream has ended; wait for it before the next request.
    await logged(2);
    await app.fetch(request("GET", "/v1/nothing", undefined, { auth: false }));
    expect(logs).toHaveLength(3);
    expect(logs[0]).toMatchObject({ level: "info", msg: "request", method: "POST", route: "/v1/runs", status: 200, outcome: "completed" });
    expect(Object.keys(logs[0]!)).toEqual(["time", "level", "msg", "method", "route", "status", "duration_ms", "run_id", "outcome"]);
    expect(logs[1]).toMatchObject({ route: "/v1/runs", status: 200, outcome: "completed" });
    expect(logs[2]).toMatchObject({ route: "unmatched", status: 401 });
    const text = JSON.stringify(logs);
    for (const secret of ["hunter2", "2+2", token, "private-session", "4"]) {
      if (secret === "4") expect(text).not.toContain('"4"');
      else expect(text).not.toContain(secret);
    }
  });
});
