/**
 * The benchmark's fake world in one small process: an OpenAI-compatible model, an HTTP tool
 * service and an OTLP receiver that accepts and discards, all on 127.0.0.1. Latencies and the
 * number of tool calls per step come from the environment, so one binary serves every scenario.
 *
 *   LLM_DELAY_MS   wait before each model answer (default 0)
 *   TOOL_DELAY_MS  wait before each tool answer (default 0)
 *   TOOL_CALLS     tool calls the model asks for in its first step (default 3)
 *
 * Its accept queue is raised from Bun's 512 to net.core.somaxconn, as a Go or nginx service's
 * would be: it stands in for remote services, and a fake that drops handshakes at 512 pending
 * connections would charge every client's connection churn as 1 s retransmits.
 *
 * Prints its port on stdout when ready. The model is stateless: when the last message is a tool
 * result it answers with text, otherwise it asks for TOOL_CALLS calls of the `lookup` tool.
 */
import { raiseListenBacklog } from "../src/platform/listen-backlog.ts";

const llmDelayMs = Number(process.env["LLM_DELAY_MS"] ?? 0);
const toolDelayMs = Number(process.env["TOOL_DELAY_MS"] ?? 0);
const toolCalls = Number(process.env["TOOL_CALLS"] ?? 3);

let sequence = 0;
const stats = { chat: 0, tool: 0, traces: 0, peakChat: 0, peakTool: 0, activeChat: 0, activeTool: 0 };

const wait = (ms: number) => (ms > 0 ? Bun.sleep(ms) : Promise.resolve());

function completion(message: Record<string, unknown>, finishReason: string): Response {
  return Response.json({
    id: `chatcmpl-bench-${++sequence}`,
    object: "chat.completion",
    created: 1_700_000_000,
    model: "bench-model",
    choices: [{ index: 0, message, finish_reason: finishReason }],
    usage: { prompt_tokens: 120, completion_tokens: 24, total_tokens: 144 },
  });
}

async function chat(request: Request): Promise<Response> {
  const body = (await request.json()) as { messages: { role: string }[] };
  stats.chat++;
  stats.activeChat++;
  stats.peakChat = Math.max(stats.peakChat, stats.activeChat);
  try {
    await wait(llmDelayMs);
    const last = body.messages.at(-1);
    if (last?.role === "tool") return completion({ role: "assistant", content: "All lookups done." }, "stop");
    const calls = Array.from({ length: toolCalls }, (_, i) => ({
      id: `call_${i}`,
      type: "function",
      function: { name: "lookup", arguments: JSON.stringify({ q: `item ${i}` }) },
    }));
    return completion({ role: "assistant", content: null, tool_calls: calls }, "tool_calls");
  } finally {
    stats.activeChat--;
  }
}

async function tool(request: Request): Promise<Response> {
  const body = (await request.json()) as { q?: string };
  stats.tool++;
  stats.activeTool++;
  stats.peakTool = Math.max(stats.peakTool, stats.activeTool);
  try {
    await wait(toolDelayMs);
    return Response.json({ q: body.q ?? null, answer: "42" });
  } finally {
    stats.activeTool--;
  }
}

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env["PORT"] ?? 0),
  idleTimeout: 0,
  async fetch(request) {
    const { pathname } = new URL(request.url);
    if (pathname === "/v1/chat/completions") return chat(request);
    if (pathname === "/tool") return tool(request);
    if (pathname === "/v1/traces") {
      stats.traces++;
      await request.arrayBuffer();
      return new Response(new Uint8Array(0), { headers: { "content-type": "application/x-protobuf" } });
    }
    if (pathname === "/stats") return Response.json(stats);
    if (pathname === "/reset") {
      Object.assign(stats, { chat: 0, tool: 0, traces: 0, peakChat: 0, peakTool: 0 });
      return new Response("ok");
    }
    return new Response("not found", { status: 404 });
  },
});

const backlog = raiseListenBacklog(server.port!);
if ("unchanged" in backlog) console.error(`fake-upstream: accept queue left at Bun's 512: ${backlog.unchanged}`);
console.log(server.port);
