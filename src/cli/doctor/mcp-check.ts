import { buildInfo } from "../../build-info.ts";
import { type Config, resolveSecretRef } from "../../config/index.ts";
import { SkiffError } from "../../errors.ts";
import { formatDuration } from "../../util/duration.ts";
import { type CheckContext, type CheckResult, type DoctorCheck, result } from "./check.ts";
import { describeNetworkError } from "./probe.ts";
import { findProgram } from "./tool-checks.ts";

type McpEntry = Config["mcp"][number];

/** The MCP revision doctor offers; servers answer with the one they speak. */
const protocolVersion = "2025-06-18";

const initialize = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion, capabilities: {}, clientInfo: { name: "skiff-doctor", version: buildInfo.version } },
};
const initialized = { jsonrpc: "2.0", method: "notifications/initialized" };
const listTools = { jsonrpc: "2.0", id: 2, method: "tools/list", params: {} };

/**
 * Checks an `[[mcp]]` server the way the agent will use it: starts it (stdio) or calls its URL
 * (streamable HTTP), does the MCP handshake and lists its tools. A stdio server is stopped after.
 */
export function mcpCheck(entry: McpEntry, index: number): DoctorCheck {
  return {
    name: `mcp ${entry.name}`,
    run: async (context) => {
      try {
        return entry.url !== undefined ? await checkHttp(entry, entry.url, index, context) : await checkStdio(entry, index, context);
      } catch (error) {
        if (error instanceof SkiffError) return result.fail(error.message, `set what [[mcp]] "${entry.name}" refers to`);
        throw error;
      }
    },
  };
}

interface RpcReply {
  readonly id?: unknown;
  readonly result?: { serverInfo?: { name?: unknown; version?: unknown }; tools?: unknown };
  readonly error?: { message?: unknown };
}

function describeServer(init: RpcReply, tools: RpcReply | undefined, ms: number): string {
  const info = init.result?.serverInfo;
  const name = typeof info?.name === "string" ? `${info.name}${typeof info.version === "string" ? ` ${info.version}` : ""}` : "a server";
  const count = Array.isArray(tools?.result?.tools) ? `, ${tools.result.tools.length} tools` : "";
  return `${name} answered the MCP handshake${count} (${ms} ms)`;
}

async function checkStdio(entry: McpEntry, index: number, context: CheckContext): Promise<CheckResult> {
  const argv = entry.command!;
  const env: Record<string, string | undefined> = { ...context.secrets.env };
  for (const [name, ref] of Object.entries(entry.env)) env[name] = resolveSecretRef(ref, `mcp[${index}].env.${name}`, context.secrets);
  const program = findProgram(argv[0]!, entry.cwd, env["PATH"] ?? context.path);
  if (!program) {
    return result.fail(`the program "${argv[0]}" is not found or not executable`, `install it, or give its absolute path in command of [[mcp]] "${entry.name}"`);
  }
  const started = performance.now();
  const child = Bun.spawn([program, ...argv.slice(1)], {
    env,
    ...(entry.cwd === undefined ? {} : { cwd: entry.cwd }),
    stdin: "pipe",
    stdout: "pipe",
    stderr: "ignore",
  });
  const lines = readLines(child.stdout);
  const send = (message: object) => {
    child.stdin.write(`${JSON.stringify(message)}\n`);
    child.stdin.flush();
  };
  const deadline = AbortSignal.timeout(context.timeoutMs);
  try {
    send(initialize);
    const init = await replyTo(1, lines, deadline, child.exited);
    if (init.kind !== "reply") return stdioFailure(entry, init, context);
    if (init.reply.error) return result.fail(`initialize was refused: ${String(init.reply.error.message)}`, `see the server's documentation`);
    send(initialized);
    send(listTools);
    const tools = await replyTo(2, lines, deadline, child.exited);
    return result.ok(describeServer(init.reply, tools.kind === "reply" ? tools.reply : undefined, Math.round(performance.now() - started)));
  } finally {
    child.kill("SIGTERM");
    const stopped = await Promise.race([child.exited.then(() => true), Bun.sleep(1000).then(() => false)]);
    if (!stopped) child.kill("SIGKILL");
  }
}

type Awaited =
  | { readonly kind: "reply"; readonly reply: RpcReply }
  | { readonly kind: "exited"; readonly code: number }
  | { readonly kind: "timeout" };

function stdioFailure(entry: McpEntry, outcome: Exclude<Awaited, { kind: "reply" }>, context: CheckContext): CheckResult {
  const command = entry.command!.join(" ");
  return outcome.kind === "exited"
    ? result.fail(`"${command}" exited with code ${outcome.code} before answering initialize`, "run the command by hand to see why it stops")
    : result.fail(`"${command}" did not answer initialize within ${formatDuration(context.timeoutMs)}`, "check that it is an MCP server speaking stdio");
}

/** Waits for the JSON-RPC reply with `id`, skipping notifications and log lines. */
async function replyTo(id: number, lines: AsyncIterator<string>, deadline: AbortSignal, exited: Promise<number>): Promise<Awaited> {
  const timeout = new Promise<Awaited>((resolve) => {
    if (deadline.aborted) resolve({ kind: "timeout" });
    deadline.addEventListener("abort", () => resolve({ kind: "timeout" }), { once: true });
  });
  const read = (async (): Promise<Awaited> => {
    for (;;) {
      const next = await lines.next();
      if (next.done) return { kind: "exited", code: await exited };
      const reply = parseReply(next.value);
      if (reply?.id === id) return { kind: "reply", reply };
    }
  })();
  return Promise.race([read, timeout]);
}

async function* readLinesOf(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf("\n")) !== -1) {
      yield buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
    }
  }
  if (buffered !== "") yield buffered;
}

function readLines(stream: ReadableStream<Uint8Array>): AsyncIterator<string> {
  return readLinesOf(stream)[Symbol.asyncIterator]();
}

function parseReply(text: string): RpcReply | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as RpcReply) : undefined;
  } catch {
    return undefined;
  }
}

async function checkHttp(entry: McpEntry, url: string, index: number, context: CheckContext): Promise<CheckResult> {
  const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json, text/event-stream" };
  for (const [name, ref] of Object.entries(entry.headers)) headers[name] = resolveSecretRef(ref, `mcp[${index}].headers.${name}`, context.secrets);
  const started = performance.now();
  const signal = AbortSignal.timeout(context.timeoutMs);
  const fix = `start the server, or correct url in [[mcp]] "${entry.name}"`;
  try {
    const response = await context.fetch(url, { method: "POST", headers, body: JSON.stringify(initialize), signal });
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      return result.fail(`${url} → ${response.status}: the server refused the credentials`, `set headers of [[mcp]] "${entry.name}"`);
    }
    const init = rpcFromBody(await response.text(), 1);
    if (!response.ok || !init) return result.fail(`${url} → ${response.status}, not an MCP initialize reply`, fix);
    if (init.error) return result.fail(`initialize was refused: ${String(init.error.message)}`, "see the server's documentation");
    const session = response.headers.get("mcp-session-id");
    const follow = { ...headers, "mcp-protocol-version": protocolVersion, ...(session ? { "mcp-session-id": session } : {}) };
    const note = await context.fetch(url, { method: "POST", headers: follow, body: JSON.stringify(initialized), signal });
    await note.body?.cancel();
    const listed = await context.fetch(url, { method: "POST", headers: follow, body: JSON.stringify(listTools), signal });
    const tools = rpcFromBody(await listed.text(), 2);
    // A stateful server keeps the session until told; say goodbye as the spec asks.
    if (session) await context.fetch(url, { method: "DELETE", headers: follow, signal }).then((r) => r.body?.cancel(), () => {});
    return result.ok(describeServer(init, tools, Math.round(performance.now() - started)));
  } catch (error) {
    const reason = signal.aborted ? `no answer within ${formatDuration(context.timeoutMs)}` : describeNetworkError(error);
    return result.fail(`${url}: ${reason}`, fix);
  }
}

/** The reply with `id` from a JSON body or an SSE stream of `data:` lines. */
function rpcFromBody(body: string, id: number): RpcReply | undefined {
  const direct = parseReply(body);
  if (direct?.id === id) return direct;
  for (const line of body.split(/\r?\n/)) {
    if (!line.startsWith("data:")) continue;
    const reply = parseReply(line.slice(5).trim());
    if (reply?.id === id) return reply;
  }
  return undefined;
}
