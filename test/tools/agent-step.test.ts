import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { join } from "node:path";
import { runAgent } from "../../src/agent/index.ts";
import { configSchema } from "../../src/config/index.ts";
import { createOpenAIModel } from "../../src/model/openai.ts";
import { buildDeclaredTools, type ToolSet } from "../../src/tools/declared-tools.ts";
import { createSemaphore } from "../../src/util/semaphore.ts";
import { type FakeOpenAI, reply, startFakeOpenAI } from "../fakes/fake-openai-server.ts";

const toolMs = 400;
let sidecar: ReturnType<typeof Bun.serve>;
let llm: FakeOpenAI;
let toolSet: ToolSet;

beforeAll(async () => {
  sidecar = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const { ms } = (await request.json()) as { ms: number };
      await Bun.sleep(ms);
      return Response.json({ slept: ms });
    },
  });
  const config = configSchema.parse({
    tools: {
      http: [
        {
          name: "slow_http",
          description: "Waits on a sidecar",
          url: `http://127.0.0.1:${sidecar.port}/wait`,
          parameters: { type: "object", properties: { ms: { type: "integer" } }, required: ["ms"] },
        },
      ],
      command: [{ name: "slow_cmd", description: "Waits in a subprocess", argv: ["sh", "-c", `sleep ${toolMs / 1000}; echo waited`] }],
    },
    mcp: [{ name: "fake", command: [process.execPath, join(import.meta.dir, "../fakes/mcp-server.ts")] }],
  });
  toolSet = await buildDeclaredTools(config, {
    secrets: { env: {}, readFile: () => undefined },
    env: process.env,
    cwd: process.cwd(),
    client: { name: "skiff-test", version: "0" },
    outbound: createSemaphore(64),
  });
  llm = startFakeOpenAI([
    reply.toolCalls([
      { id: "call_http", name: "slow_http", arguments: JSON.stringify({ ms: toolMs }) },
      { id: "call_cmd", name: "slow_cmd", arguments: "{}" },
      { id: "call_mcp", name: "fake__slow", arguments: JSON.stringify({ ms: toolMs }) },
    ]),
    reply.text("All three finished."),
  ]);
});

afterAll(async () => {
  await toolSet.close();
  await llm.stop();
  await sidecar.stop(true);
});

describe("an agent step with declared tools", () => {
  it("runs an HTTP, a command and an MCP tool at the same time and returns results in the model's order", async () => {
    const result = await runAgent({
      model: createOpenAIModel({ model: "fake-model", baseURL: llm.url, apiKey: "k", llmTimeoutMs: 10_000, retries: 0, maxRetryWaitMs: 0 }),
      tools: toolSet.tools,
      messages: [{ role: "user", content: "Run all three." }],
      limits: { maxSteps: 3, toolTimeoutMs: 10_000, toolOutputLimit: 64 * 1024 },
    });
    expect(result.output).toBe("All three finished.");
    const calls = result.steps[0]!.toolCalls;
    expect(calls.map((call) => [call.name, call.ok])).toEqual([
      ["slow_http", true],
      ["slow_cmd", true],
      ["fake__slow", true],
    ]);
    expect(calls[0]!.output).toBe(`{"slept":${toolMs}}`);
    expect(calls[1]!.output).toBe("waited\n");
    expect(JSON.parse(calls[2]!.output)).toMatchObject({ slept: toolMs });

    // They overlapped: each started before any other ended (each takes at least toolMs).
    const latestStart = Math.max(...calls.map((call) => call.startMs));
    const earliestEnd = Math.min(...calls.map((call) => call.startMs + call.durationMs));
    expect(latestStart).toBeLessThan(earliestEnd);

    const followUp = llm.chatRequests()[1]!.body!["messages"] as { role: string; tool_call_id?: string }[];
    expect(followUp.filter((message) => message.role === "tool").map((message) => message.tool_call_id)).toEqual([
      "call_http",
      "call_cmd",
      "call_mcp",
    ]);
  });
});
