/**
 * The floor: the least an agent service on Bun can do for B2–B4 (DESIGN §10), to read skiff's
 * figures against. Bun.serve + fetch + Promise.all and nothing else: no SDK, no validation, no
 * tracing, no limits, no sessions. `npm run bench` never uses it; `BENCH_FLOOR=1 npm run bench --
 * b4` runs a scenario against it instead of skiff, on the same harness.
 *
 *   bun bench/floor-agent.ts serve --listen 127.0.0.1:PORT    (UPSTREAM=http://127.0.0.1:PORT)
 */
import { raiseListenBacklog } from "../src/platform/listen-backlog.ts";

const upstream = process.env["UPSTREAM"];
const listen = process.argv[process.argv.indexOf("--listen") + 1];
if (!upstream || !listen) throw new Error("usage: UPSTREAM=http://… bun bench/floor-agent.ts serve --listen HOST:PORT");
const [hostname, port] = listen.split(":") as [string, string];

const tools = [{ type: "function", function: { name: "lookup", description: "Looks an item up", parameters: { type: "object", properties: { q: { type: "string" } } } } }];
interface ToolCall {
  id: string;
  function: { name: string; arguments: string };
}
interface Message {
  role: string;
  content: string | null;
  tool_calls?: ToolCall[];
  tool_call_id?: string;
}

async function run(input: string): Promise<string> {
  const messages: Message[] = [{ role: "user", content: input }];
  for (let step = 0; step < 10; step++) {
    const res = await fetch(`${upstream}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "bench-model", messages, tools }),
    });
    const message = ((await res.json()) as { choices: { message: Message }[] }).choices[0]!.message;
    messages.push(message);
    if (!message.tool_calls?.length) return message.content ?? "";
    const outputs = await Promise.all(
      message.tool_calls.map(async (call) => {
        const out = await fetch(`${upstream}/tool`, { method: "POST", headers: { "content-type": "application/json" }, body: call.function.arguments });
        return { role: "tool", tool_call_id: call.id, content: await out.text() };
      }),
    );
    messages.push(...outputs);
  }
  return "";
}

const server = Bun.serve({
  hostname,
  port: Number(port),
  idleTimeout: 0,
  async fetch(request) {
    const { pathname } = new URL(request.url);
    if (pathname === "/healthz") return new Response("ok");
    if (pathname !== "/v1/runs") return new Response("not found", { status: 404 });
    const { input } = (await request.json()) as { input: string };
    return Response.json({ finish_reason: "stop", output: await run(input), steps: [] });
  },
});
raiseListenBacklog(server.port!);
