import { describe, expect, it } from "bun:test";
import { runAgent } from "../../src/agent/index.ts";
import { createDemoModel } from "../../src/model/demo.ts";
import { createGenAiMetrics, seriesLimit } from "../../src/telemetry/metrics.ts";
import { createMetricsTracer } from "../../src/telemetry/metrics-tracer.ts";
import { calcTool } from "../../src/tools/builtin/calc.ts";
import { timeTool } from "../../src/tools/builtin/time.ts";

describe("createGenAiMetrics", () => {
  it("renders histograms in Prometheus text with the conventions' buckets", () => {
    const metrics = createGenAiMetrics();
    const attributes = { "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": 'g"1', "server.port": undefined };
    metrics.record("gen_ai.client.operation.duration", 0.015, attributes);
    metrics.record("gen_ai.client.operation.duration", 100, attributes);
    metrics.record("gen_ai.client.token.usage", 5, { ...attributes, "gen_ai.token.type": "input" });
    const text = metrics.renderPrometheus();
    const labels = 'gen_ai_operation_name="chat",gen_ai_provider_name="openai",gen_ai_request_model="g\\"1"';
    expect(text).toContain("# TYPE gen_ai_client_operation_duration_seconds histogram\n");
    expect(text).toContain(`gen_ai_client_operation_duration_seconds_bucket{${labels},le="0.01"} 0\n`);
    expect(text).toContain(`gen_ai_client_operation_duration_seconds_bucket{${labels},le="0.02"} 1\n`);
    expect(text).toContain(`gen_ai_client_operation_duration_seconds_bucket{${labels},le="81.92"} 1\n`);
    expect(text).toContain(`gen_ai_client_operation_duration_seconds_bucket{${labels},le="+Inf"} 2\n`);
    expect(text).toContain(`gen_ai_client_operation_duration_seconds_sum{${labels}} 100.015\n`);
    expect(text).toContain(`gen_ai_client_operation_duration_seconds_count{${labels}} 2\n`);
    expect(text).toContain("# TYPE gen_ai_client_token_usage histogram\n");
    expect(text).toContain(`gen_ai_client_token_usage_bucket{${labels},gen_ai_token_type="input",le="4"} 0\n`);
    expect(text).toContain(`gen_ai_client_token_usage_bucket{${labels},gen_ai_token_type="input",le="16"} 1\n`);
    expect(text).not.toContain("server_port");
  });

  it("keeps one series for the same attributes given in another order", () => {
    const metrics = createGenAiMetrics();
    metrics.record("gen_ai.execute_tool.duration", 0.5, { "gen_ai.tool.name": "calc", "gen_ai.tool.type": "function" });
    metrics.record("gen_ai.execute_tool.duration", 0.5, { "gen_ai.tool.type": "function", "gen_ai.tool.name": "calc" });
    const text = metrics.renderPrometheus();
    expect(text.match(/gen_ai_execute_tool_duration_seconds_count\{[^}]*\} \d+/g)).toEqual([
      'gen_ai_execute_tool_duration_seconds_count{gen_ai_tool_name="calc",gen_ai_tool_type="function"} 2',
    ]);
  });

  it("folds attribute sets past the series limit into one overflow series, as the OTel SDK does", () => {
    const metrics = createGenAiMetrics();
    // A model inventing tool names must not grow the series (and /metrics) without bound.
    for (let i = 0; i < seriesLimit + 500; i++) metrics.record("gen_ai.execute_tool.duration", 0.1, { "gen_ai.tool.name": `made_up_${i}` });
    metrics.record("gen_ai.execute_tool.duration", 0.1, { "gen_ai.tool.name": "made_up_0" });
    const text = metrics.renderPrometheus();
    const counts = text.match(/gen_ai_execute_tool_duration_seconds_count\{[^}]*\} \d+/g) ?? [];
    expect(counts.length).toBe(seriesLimit + 1);
    expect(text).toContain('gen_ai_execute_tool_duration_seconds_count{otel_metric_overflow="true"} 500\n');
    expect(text).toContain('gen_ai_execute_tool_duration_seconds_count{gen_ai_tool_name="made_up_0"} 2\n');
  });

  it("is empty before anything is recorded", () => {
    expect(createGenAiMetrics().renderPrometheus()).toBe("");
  });
});

describe("createMetricsTracer", () => {
  it("records model, token, tool and run histograms from a demo run", async () => {
    const metrics = createGenAiMetrics();
    await runAgent({
      model: createDemoModel(),
      tools: [timeTool, calcTool],
      messages: [{ role: "user", content: "What time is it in Tokyo, and what is 17*23?" }],
      limits: { maxSteps: 5, toolTimeoutMs: 5_000, toolOutputLimit: 65_536 },
      tracer: createMetricsTracer({ metrics }),
    });
    const text = metrics.renderPrometheus();
    const chat = 'gen_ai_operation_name="chat",gen_ai_provider_name="skiff.demo",gen_ai_request_model="demo",gen_ai_response_model="demo"';
    expect(text).toContain(`gen_ai_client_operation_duration_seconds_count{${chat}} 2\n`);
    expect(text).toContain(`gen_ai_client_token_usage_count{${chat},gen_ai_token_type="input"} 2\n`);
    expect(text).toContain(`gen_ai_client_token_usage_count{${chat},gen_ai_token_type="output"} 2\n`);
    expect(text).toContain('gen_ai_execute_tool_duration_seconds_count{gen_ai_agent_name="skiff",gen_ai_tool_name="calc",gen_ai_tool_type="function"} 1\n');
    expect(text).toContain('gen_ai_invoke_agent_duration_seconds_count{gen_ai_agent_name="skiff",gen_ai_request_model="demo"} 1\n');
    expect(text).toContain('gen_ai_invoke_agent_duration_seconds_bucket{gen_ai_agent_name="skiff",gen_ai_request_model="demo",le="0.1"} 1\n');
  });
});
