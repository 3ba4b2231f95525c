/**
 * A real MCP server for tests, written with the official SDK. Run it as a subprocess:
 *
 *   bun test/fakes/mcp-server.ts                 stdio transport
 *   bun test/fakes/mcp-server.ts --http [--port N]   streamable HTTP on 127.0.0.1; prints its URL on stdout
 *   … --log FILE                                  appends one line per event (call, cancel) to FILE
 *
 * Tools: `echo` (returns its text and the server's pid), `slow` (waits `ms`), `crash` (the process
 * exits in the middle of the call), `hang` (never answers), `garbage` (stdio: writes a line that is
 * not JSON-RPC on stdout; HTTP: answers the call with a 200 that is not JSON), `bad_result` (valid
 * JSON-RPC whose result does not fit the MCP schema), `fails` (a tool error, `isError: true`), and two
 * whose names model APIs refuse: `dotted.name` and `dotted_name` (to test name sanitising).
 * `startFakeMcpHttp()` runs the HTTP variant as a subprocess and returns its URL.
 */
import { appendFileSync } from "node:fs";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { z } from "zod";

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const index = args.indexOf(name);
  return index === -1 ? undefined : args[index + 1];
};
const logFile = option("--log");
const http = args.includes("--http");

function log(line: string): void {
  if (logFile) appendFileSync(logFile, `${line}\n`);
}

const text = (value: string) => ({ content: [{ type: "text" as const, text: value }] });

function buildServer(): McpServer {
  const server = new McpServer({ name: "skiff-fake-mcp", version: "1.0.0" });
  server.registerTool(
    "echo",
    { description: "Echoes text back with the server's pid", inputSchema: { text: z.string() } },
    async ({ text: value }) => {
      log(`call echo ${value}`);
      return text(JSON.stringify({ echo: value, pid: process.pid }));
    },
  );
  server.registerTool(
    "slow",
    { description: "Answers after ms milliseconds", inputSchema: { ms: z.number().int().min(0) } },
    async ({ ms }, extra) => {
      log(`call slow ${ms}`);
      const started = Date.now();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        extra.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          log("cancelled slow");
          resolve();
        });
      });
      return text(JSON.stringify({ slept: ms, started, ended: Date.now() }));
    },
  );
  server.registerTool("crash", { description: "Kills the server mid-call" }, async () => {
    log("call crash");
    setTimeout(() => process.exit(3), 10);
    return new Promise<never>(() => {});
  });
  server.registerTool("hang", { description: "Never answers" }, async (extra) => {
    log("call hang");
    extra.signal.addEventListener("abort", () => log("cancelled hang"));
    return new Promise<never>(() => {});
  });
  server.registerTool("garbage", { description: "Answers with bytes that are not JSON-RPC" }, async () => {
    log("call garbage");
    process.stdout.write("this is not json-rpc\n");
    return new Promise<never>(() => {});
  });
  server.registerTool("bad_result", { description: "Answers with a result that breaks the MCP schema" }, async (extra) => {
    log("call bad_result");
    // Written by hand: the SDK's server would refuse to send it. `content` must be an array.
    process.stdout.write(`${JSON.stringify({ jsonrpc: "2.0", id: extra.requestId, result: { content: "not a list" } })}\n`);
    return new Promise<never>(() => {});
  });
  server.registerTool("fails", { description: "Reports a tool error" }, async () => ({
    isError: true,
    content: [{ type: "text" as const, text: "the widget is broken" }],
  }));
  server.registerTool("dotted.name", { description: "A name with a dot" }, async () => text("dotted.name"));
  server.registerTool("dotted_name", { description: "A name that collides once sanitised" }, async () =>
    text("dotted_name"),
  );
  return server;
}

/** The id of a `tools/call` of `tool` in a request body (HTTP mode answers those itself). */
function callOf(body: unknown, tool: string): string | number | undefined {
  const message = (Array.isArray(body) ? body[0] : body) as { method?: unknown; id?: unknown; params?: { name?: unknown } } | undefined;
  if (message?.method !== "tools/call" || message.params?.name !== tool) return undefined;
  return typeof message.id === "string" || typeof message.id === "number" ? message.id : undefined;
}

async function serveHttp(port: number): Promise<void> {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port,
    async fetch(request) {
      if (new URL(request.url).pathname !== "/mcp") return new Response("not found", { status: 404 });
      if (request.method === "POST") {
        const authorization = request.headers.get("authorization");
        if (authorization) log(`authorization ${authorization}`);
        const body: unknown = await request.clone().json().catch(() => undefined);
        if (callOf(body, "garbage") !== undefined) {
          log("call garbage");
          return new Response("this is not json-rpc {", { headers: { "content-type": "application/json" } });
        }
        const badId = callOf(body, "bad_result");
        if (badId !== undefined) {
          log("call bad_result");
          return Response.json({ jsonrpc: "2.0", id: badId, result: { content: "not a list" } });
        }
      }
      // Stateless mode: a fresh server and transport per request, as the SDK documents.
      const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      await buildServer().connect(transport);
      return transport.handleRequest(request);
    },
  });
  process.stdout.write(`http://127.0.0.1:${server.port}/mcp\n`);
}

if (import.meta.main) {
  if (http) await serveHttp(Number(option("--port") ?? 0));
  else await buildServer().connect(new StdioServerTransport());
}

/** A fake MCP server on streamable HTTP, in its own process so `crash` can really kill it. */
export interface FakeMcpHttp {
  readonly url: string;
  readonly pid: number;
  /** Kills the server process (if still alive) and waits for it. */
  stop(): Promise<void>;
}

/** Starts the HTTP variant as a subprocess and waits for its URL. */
export async function startFakeMcpHttp(options: { port?: number; logFile?: string } = {}): Promise<FakeMcpHttp> {
  const cmd = [process.execPath, import.meta.path, "--http", "--port", String(options.port ?? 0)];
  if (options.logFile) cmd.push("--log", options.logFile);
  const child = Bun.spawn({ cmd, stdout: "pipe", stderr: "inherit", stdin: "ignore" });
  const reader = child.stdout.getReader();
  let buffered = "";
  const decoder = new TextDecoder();
  while (!buffered.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`fake MCP server exited before printing its URL (exit ${await child.exited})`);
    buffered += decoder.decode(value, { stream: true });
  }
  reader.releaseLock();
  return {
    url: buffered.trim(),
    pid: child.pid,
    async stop() {
      child.kill("SIGKILL");
      await child.exited;
    },
  };
}
