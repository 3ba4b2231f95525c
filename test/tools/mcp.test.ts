import { afterEach, beforeEach, describe, expect, it } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mcpServerEntry } from "../../src/config/sections/tools.ts";
import { ConfigError } from "../../src/errors.ts";
import { type McpToolSet, startMcpServers } from "../../src/tools/mcp/mcp-tools.ts";
import { type Tool, ToolFailure, ToolInputError } from "../../src/tools/tool.ts";
import { type FakeMcpHttp, startFakeMcpHttp } from "../fakes/mcp-server.ts";
import { isAlive, waitFor } from "../helpers/processes.ts";

const fakeServer = join(import.meta.dir, "../fakes/mcp-server.ts");
let dir: string;
let logFile: string;
let sets: McpToolSet[] = [];
let https: FakeMcpHttp[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "skiff-mcp-"));
  logFile = join(dir, "events.log");
});
afterEach(async () => {
  await Promise.all(sets.map((set) => set.close()));
  await Promise.all(https.map((server) => server.stop()));
  sets = [];
  https = [];
  rmSync(dir, { recursive: true, force: true });
});

async function start(entries: Record<string, unknown>[]): Promise<Map<string, Tool>> {
  const set = await startMcpServers(
    entries.map((entry) => mcpServerEntry.parse(entry)),
    {
      secrets: { env: { MCP_TOKEN: "t0ken" }, readFile: () => undefined },
      defaultTimeoutMs: 10_000,
      env: process.env,
      cwd: dir,
      clientInfo: { name: "skiff-test", version: "0.0.0" },
    },
    new Set(),
  );
  sets.push(set);
  return new Map(set.tools.map((tool) => [tool.name, tool]));
}

const stdioEntry = (extra: Record<string, unknown> = {}) => ({
  name: "fake",
  command: [process.execPath, fakeServer, "--log", logFile],
  ...extra,
});

const ctx = (signal: AbortSignal = new AbortController().signal) => ({ signal, callId: "c" });

function events(): string[] {
  return existsSync(logFile) ? readFileSync(logFile, "utf8").trim().split("\n") : [];
}

async function echoPid(tool: Tool, text = "hi"): Promise<number> {
  const output = JSON.parse((await tool.execute({ text }, ctx())) as string) as { echo: string; pid: number };
  expect(output.echo).toBe(text);
  return output.pid;
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

describe("startMcpServers over stdio", () => {
  it("lists the server's tools as <server>__<tool> with sanitised, unique names", async () => {
    const tools = await start([stdioEntry()]);
    expect([...tools.keys()].sort()).toEqual(
      [
        "fake__bad_result",
        "fake__crash",
        "fake__dotted_name",
        "fake__dotted_name_2",
        "fake__echo",
        "fake__fails",
        "fake__garbage",
        "fake__hang",
        "fake__slow",
      ].sort(),
    );
    const echo = tools.get("fake__echo")!;
    expect(echo.source).toBe("mcp:fake");
    expect(echo.type).toBe("extension");
    expect(echo.parameters).toMatchObject({ type: "object", properties: { text: { type: "string" } }, required: ["text"] });
    expect(echo.description).toBe("Echoes text back with the server's pid");
  });

  it("calls a tool and validates its arguments first", async () => {
    const tools = await start([stdioEntry()]);
    await echoPid(tools.get("fake__echo")!, "hello there");
    expect(await failure(tools.get("fake__echo")!.execute({ text: 5 }, ctx()))).toBeInstanceOf(ToolInputError);
  });

  it("turns a crash mid-call into a tool error and restarts the server on the next call", async () => {
    const tools = await start([stdioEntry()]);
    const firstPid = await echoPid(tools.get("fake__echo")!);
    const error = await failure(tools.get("fake__crash")!.execute({}, ctx()));
    expect(error).toBeInstanceOf(ToolFailure);
    expect(error.message).toContain('"crash" of MCP server "fake" failed: the server process exited with code 3');
    expect(error.message).toContain("restarted on the next call");
    const secondPid = await echoPid(tools.get("fake__echo")!);
    expect(secondPid).not.toBe(firstPid);
    expect(isAlive(firstPid)).toBe(false);
  });

  it("times out a hanging call, tells the server to cancel it, and keeps a healthy server", async () => {
    const tools = await start([stdioEntry({ timeout: "300ms" })]);
    const pid = await echoPid(tools.get("fake__echo")!);
    const started = Date.now();
    const error = await failure(tools.get("fake__hang")!.execute({}, ctx()));
    expect(Date.now() - started).toBeLessThan(3000);
    expect(error.message).toBe('"hang" of MCP server "fake" did not answer within 300ms and was cancelled');
    await waitFor(() => events().includes("cancelled hang"), 2000, "the server to see the cancellation");
    // The server still answers a ping, so it is kept.
    expect(await echoPid(tools.get("fake__echo")!)).toBe(pid);
  });

  it("restarts a server that stopped answering altogether, after the call that found out", async () => {
    const tools = await start([stdioEntry({ timeout: "300ms" })]);
    const pid = await echoPid(tools.get("fake__echo")!);
    process.kill(pid, "SIGSTOP");
    const error = await failure(tools.get("fake__echo")!.execute({ text: "anyone?" }, ctx()));
    expect(error.message).toContain("did not answer within 300ms");
    // The next call pings first, gets no answer, and starts a fresh server.
    const fresh = await echoPid(tools.get("fake__echo")!);
    expect(fresh).not.toBe(pid);
    await waitFor(() => !isAlive(pid), 3000, "the stuck server to be killed");
  });

  it("fails a call at once when the server writes garbage, and restarts it", async () => {
    const tools = await start([stdioEntry()]);
    const pid = await echoPid(tools.get("fake__echo")!);
    const started = Date.now();
    const error = await failure(tools.get("fake__garbage")!.execute({}, ctx()));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error.message).toContain("the server wrote something that is not JSON-RPC on stdout");
    expect(await echoPid(tools.get("fake__echo")!)).not.toBe(pid);
  });

  it("turns a result that breaks the MCP schema into a tool error", async () => {
    const tools = await start([stdioEntry()]);
    const error = await failure(tools.get("fake__bad_result")!.execute({}, ctx()));
    expect(error).toBeInstanceOf(ToolFailure);
    expect(error.message).toBe('"bad_result" of MCP server "fake" answered with a result that breaks the MCP schema (content: Invalid input: expected array, received string)');
  });

  it("passes the server's own tool errors on", async () => {
    const tools = await start([stdioEntry()]);
    const error = await failure(tools.get("fake__fails")!.execute({}, ctx()));
    expect(error.message).toBe('MCP tool "fails" of MCP server "fake" reported an error: the widget is broken');
  });

  it("cancels the call on the server when the caller aborts", async () => {
    const tools = await start([stdioEntry()]);
    const controller = new AbortController();
    const running = failure(tools.get("fake__slow")!.execute({ ms: 10_000 }, ctx(controller.signal)));
    await waitFor(() => events().includes("call slow 10000"), 3000, "the call to arrive");
    controller.abort(new Error("run cancelled"));
    expect((await running).message).toBe("run cancelled");
    await waitFor(() => events().includes("cancelled slow"), 2000, "the server to see the cancellation");
  });

  it("stops the server process on close", async () => {
    const tools = await start([stdioEntry()]);
    const pid = await echoPid(tools.get("fake__echo")!);
    await sets.pop()!.close();
    await waitFor(() => !isAlive(pid), 3000, "the server to exit");
    expect((await failure(tools.get("fake__echo")!.execute({ text: "x" }, ctx()))).message).toContain("shut down");
  });

  it("stops start-up with a ConfigError naming a server that cannot start", async () => {
    const error = await failure(start([{ name: "broken", command: ["/nonexistent/mcp-server"] }]));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues[0]).toMatchObject({ code: "unavailable", path: ["mcp", "broken"] });
    expect(error.message).toContain('MCP server "broken" could not be started');
  });

  it("names the server, the phase and start_timeout when a server never answers initialize, and stops it", async () => {
    const pidFile = join(dir, "pid");
    const error = await failure(start([{ name: "files", command: ["sh", "-c", `echo $$ > ${pidFile}; exec sleep 60`], start_timeout: "1s" }]));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues[0]).toMatchObject({
      code: "unavailable",
      path: ["mcp", "files"],
      message:
        'MCP server "files" did not answer initialize within start_timeout 1s; check that the command starts an MCP server on stdio ' +
        "(it must answer JSON-RPC on stdin), or raise start_timeout if it downloads first (npx)",
    });
    const pid = Number(readFileSync(pidFile, "utf8"));
    await waitFor(() => !isAlive(pid), 3000, "the hung server to be killed");
  });

  it("says when a server answers initialize but never lists its tools", async () => {
    // Answers initialize, then ignores everything: tools/list never comes back.
    const script = join(dir, "half-server.ts");
    writeFileSync(
      script,
      `let buffer = "";
process.stdin.on("data", (chunk) => {
  buffer += chunk;
  for (let end = buffer.indexOf("\\n"); end >= 0; end = buffer.indexOf("\\n")) {
    const message = JSON.parse(buffer.slice(0, end));
    buffer = buffer.slice(end + 1);
    if (message.method !== "initialize") continue;
    const result = { protocolVersion: message.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: "half", version: "1" } };
    process.stdout.write(JSON.stringify({ jsonrpc: "2.0", id: message.id, result }) + "\\n");
  }
});
`,
    );
    const error = await failure(start([{ name: "half", command: [process.execPath, script], start_timeout: "1s" }]));
    expect((error as ConfigError).issues[0]!.message).toStartWith('MCP server "half" did not answer tools/list within start_timeout 1s; it answered initialize');
  });
});

describe("startMcpServers over streamable HTTP", () => {
  it("lists and calls tools", async () => {
    const server = await startFakeMcpHttp({ logFile });
    https.push(server);
    const tools = await start([{ name: "web", url: server.url, headers: { authorization: "env:MCP_TOKEN" } }]);
    expect(tools.get("web__echo")!.source).toBe("mcp:web");
    expect(await echoPid(tools.get("web__echo")!)).toBe(server.pid);
    expect(events()).toContain("authorization t0ken");
  });

  it("turns a garbage answer and a schema-breaking result into tool errors", async () => {
    const server = await startFakeMcpHttp();
    https.push(server);
    const tools = await start([{ name: "web", url: server.url }]);
    expect(await failure(tools.get("web__garbage")!.execute({}, ctx()))).toBeInstanceOf(ToolFailure);
    expect(await failure(tools.get("web__bad_result")!.execute({}, ctx()))).toBeInstanceOf(ToolFailure);
    expect(await echoPid(tools.get("web__echo")!)).toBe(server.pid);
  });

  it("turns a server that dies mid-call into a tool error and reconnects once it is back", async () => {
    const server = await startFakeMcpHttp();
    https.push(server);
    const tools = await start([{ name: "web", url: server.url, timeout: "5s" }]);
    const error = await failure(tools.get("web__crash")!.execute({}, ctx()));
    expect(error).toBeInstanceOf(ToolFailure);
    expect(error.message).toContain('"crash" of MCP server "web" failed');
    const port = Number(new URL(server.url).port);
    const again = await startFakeMcpHttp({ port });
    https.push(again);
    expect(await echoPid(tools.get("web__echo")!)).toBe(again.pid);
  });
});
