import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { ErrorCode, McpError, type Tool as McpTool } from "@modelcontextprotocol/sdk/types.js";
import type { z } from "zod";
import type { mcpServerEntry } from "../../config/sections/tools.ts";
import { raceAbort } from "../../util/abort.ts";
import { formatDuration, maxDurationMs } from "../../util/duration.ts";
import { networkReason } from "../outbound.ts";
import { ToolFailure } from "../tool.ts";
import { renderMcpResult } from "./mcp-result.ts";
import { resolveHeaders, type StdioContext, startFailedMessage, stdioSpawnOptions, stdioStartProblem } from "./server-launch.ts";
import { GroupStdioTransport } from "./stdio-transport.ts";
import type { GroupSpawnOptions } from "../process-group.ts";

/** One `[[mcp]]` entry, validated. */
export type McpServerEntry = z.output<typeof mcpServerEntry>;

/** What a connection needs from the outside (secrets, skiff's env and cwd: see StdioContext). */
export interface McpConnectionOptions extends StdioContext {
  /** `tool_timeout`, used when the entry sets no `timeout`. */
  readonly defaultTimeoutMs: number;
  /** How skiff introduces itself in `initialize`. */
  readonly clientInfo: { readonly name: string; readonly version: string };
}

const pingTimeoutMs = 5000;

/**
 * One MCP server: connects on start, and again on the next call after it crashed, hung or
 * answered garbage. Every failure of a call becomes a ToolFailure the model can read; only the
 * caller's own abort is rethrown as is.
 */
export class McpConnection {
  readonly name: string;
  private readonly timeoutMs: number;
  private session: Session | undefined;
  private connecting: Promise<Session> | undefined;
  // Set after a call timed out: the next call pings first and restarts a server that is stuck.
  private suspect = false;
  private closed = false;
  // The transport of a connect in progress, so a start that times out can stop it.
  private starting: Transport | undefined;
  private readonly makeTransport: () => Transport;
  // How a stdio server is spawned; looked over before each start (stdioStartProblem).
  private readonly spawn: GroupSpawnOptions | undefined;

  constructor(
    private readonly entry: McpServerEntry,
    private readonly options: McpConnectionOptions,
  ) {
    this.name = entry.name;
    this.timeoutMs = entry.timeout ?? options.defaultTimeoutMs;
    this.spawn = entry.url === undefined ? stdioSpawnOptions(entry, options) : undefined;
    this.makeTransport = transportFactory(entry, options, this.spawn);
  }

  /**
   * Connects (starting the server) and lists its tools, every page of them, all within
   * start_timeout. A server that does not make it in time is stopped, and the error names it, the
   * phase it hung in and the limit.
   */
  async listTools(): Promise<McpTool[]> {
    const limitMs = this.entry.start_timeout;
    const signal = AbortSignal.timeout(limitMs);
    let session: Session | undefined;
    try {
      session = await this.ensureSession(signal);
      const tools: McpTool[] = [];
      let cursor: string | undefined;
      do {
        const page = await session.client.listTools(cursor === undefined ? undefined : { cursor }, { signal, timeout: limitMs });
        tools.push(...page.tools);
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      return tools;
    } catch (error) {
      if (signal.aborted) throw this.startTimedOut(session, limitMs, error);
      if (error instanceof ToolFailure) throw error;
      throw new ToolFailure(`MCP server "${this.name}" could not list its tools: ${networkReason(error)}`, { code: "mcp_list_failed", cause: error });
    }
  }

  /** Calls one tool; the result is rendered as text. */
  async callTool(tool: string, args: Record<string, unknown>, signal: AbortSignal): Promise<string> {
    const label = `"${tool}" of MCP server "${this.name}"`;
    let session: Session | undefined;
    try {
      session = await this.ensureSession(signal);
      // A timeout of 0 means no limit; the SDK would read 0 as "time out at once".
      const timeout = this.timeoutMs || maxDurationMs;
      const result = await session.client.callTool({ name: tool, arguments: args }, undefined, { signal, timeout });
      return renderMcpResult(result, label);
    } catch (error) {
      if (signal.aborted) {
        // The run was cancelled or the loop's own timeout fired: the SDK told the server to cancel.
        this.suspect = true;
        throw signal.reason;
      }
      throw this.describeFailure(error, label, session);
    }
  }

  /** Stops the server (or ends the HTTP session); calls after this fail. */
  async close(): Promise<void> {
    this.closed = true;
    const session = this.session;
    this.session = undefined;
    if (session) await Promise.race([session.client.close().catch(() => {}), Bun.sleep(2000)]);
  }

  /** Stops a server that missed start_timeout and says where it hung. */
  private startTimedOut(session: Session | undefined, limitMs: number, cause: unknown): ToolFailure {
    const starting = this.starting;
    const phase: StartPhase = session ? "list tools" : starting instanceof GroupStdioTransport && starting.pid === undefined ? "spawn" : "initialize";
    const message = `MCP server "${this.name}" ${startPhaseText[phase]} within start_timeout ${formatDuration(limitMs)}; ${this.startHint(phase)}`;
    // Not left running: a hung server would outlive the failed start (and skiff, in its own group).
    if (session) this.drop(session, message);
    else if (starting instanceof GroupStdioTransport) starting.destroy(message);
    else void starting?.close().catch(() => {});
    return new ToolFailure(message, { code: "mcp_start_timeout", cause });
  }

  private startHint(phase: StartPhase): string {
    if (phase === "list tools") return "it answered initialize but not tools/list; see the server's own logs, or raise start_timeout";
    if (this.entry.url !== undefined) return "check that url is the server's streamable HTTP MCP endpoint, or raise start_timeout";
    return "check that the command starts an MCP server on stdio (it must answer JSON-RPC on stdin), or raise start_timeout if it downloads first (npx)";
  }

  private describeFailure(error: unknown, label: string, session: Session | undefined): ToolFailure {
    if (error instanceof ToolFailure) return error;
    if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) {
      this.suspect = true;
      return new ToolFailure(`${label} did not answer within ${formatDuration(this.timeoutMs)} and was cancelled`, {
        code: "mcp_timeout",
        cause: error,
      });
    }
    if (error instanceof McpError && error.code !== ErrorCode.ConnectionClosed) {
      // The server is alive and said no (unknown tool, invalid arguments, its own error).
      return new ToolFailure(`${label} failed: ${error.message}`, { code: "mcp_error", cause: error });
    }
    const issues = zodIssues(error);
    if (issues !== undefined) {
      return new ToolFailure(`${label} answered with a result that breaks the MCP schema (${issues})`, {
        code: "mcp_invalid_result",
        cause: error,
      });
    }
    const again = this.entry.url === undefined ? "the server will be restarted on the next call" : "skiff reconnects on the next call";
    const why =
      error instanceof SyntaxError
        ? "the server answered with something that is not JSON-RPC"
        : (failureOf(session?.transport) ?? `the connection failed (${networkReason(error)})`);
    this.drop(session, why);
    return new ToolFailure(`${label} failed: ${why}; ${again}`, { code: "mcp_server_failed", cause: error });
  }

  private async ensureSession(signal: AbortSignal): Promise<Session> {
    if (this.closed) throw new ToolFailure(`MCP server "${this.name}" is shut down`, { code: "mcp_closed" });
    const current = this.session;
    if (current && this.suspect) {
      this.suspect = false;
      try {
        await current.client.ping({ timeout: this.timeoutMs > 0 ? Math.min(pingTimeoutMs, this.timeoutMs) : pingTimeoutMs, signal });
      } catch {
        if (signal.aborted) throw signal.reason;
        this.drop(current, "it did not answer a ping after a call timed out");
      }
    }
    if (this.session) return this.session;
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    return raceAbort(this.connecting, signal);
  }

  private async connect(): Promise<Session> {
    // A program that is not there, said in the words `skiff config check` uses (not the spawn's).
    const problem = this.spawn && stdioStartProblem(this.spawn);
    if (problem) throw new ToolFailure(startFailedMessage(this.name, problem), { code: "mcp_start_failed" });
    const transport = this.makeTransport();
    const client = new Client(
      { name: this.options.clientInfo.name, version: this.options.clientInfo.version },
      { capabilities: {} },
    );
    const session: Session = { client, transport };
    this.starting = transport;
    // A crash closes the transport: forget the session so the next call starts a new server.
    client.onclose = () => {
      if (this.session === session) this.session = undefined;
    };
    try {
      await client.connect(transport, { timeout: this.entry.start_timeout });
    } catch (error) {
      // A spawn error's message names the program; an HTTP one may quote the URL, so only its code.
      const why =
        failureOf(transport) ?? (transport instanceof GroupStdioTransport && error instanceof Error ? error.message : networkReason(error));
      if (transport instanceof GroupStdioTransport) transport.destroy(why);
      else void transport.close().catch(() => {});
      const message = this.entry.url === undefined ? startFailedMessage(this.name, why) : `MCP server "${this.name}" could not be reached: ${why}`;
      throw new ToolFailure(message, { code: "mcp_start_failed", cause: error });
    } finally {
      this.starting = undefined;
    }
    if (this.closed) {
      // Shut down while this server was starting: do not leave it running.
      await client.close().catch(() => {});
      throw new ToolFailure(`MCP server "${this.name}" is shut down`, { code: "mcp_closed" });
    }
    this.session = session;
    return session;
  }

  private drop(session: Session | undefined, reason: string): void {
    if (session === undefined) return;
    if (this.session === session) this.session = undefined;
    if (session.transport instanceof GroupStdioTransport) session.transport.destroy(reason);
    else void session.client.close().catch(() => {});
  }
}

/** Where a start can hang: the process (stdio), the MCP handshake, or the first tools/list. */
type StartPhase = "spawn" | "initialize" | "list tools";

const startPhaseText: Record<StartPhase, string> = {
  spawn: "did not start (spawn)",
  initialize: "did not answer initialize",
  "list tools": "did not answer tools/list",
};

/** A connected client and the transport under it. */
interface Session {
  readonly client: Client;
  readonly transport: Transport;
}

/** The issues of a zod error (the SDK validates results with zod), as `path: message` text. */
function zodIssues(error: unknown): string | undefined {
  const issues = (error as { issues?: unknown } | null)?.issues;
  if (!Array.isArray(issues)) return undefined;
  return issues
    .map((issue: { path?: unknown; message?: unknown }) => {
      const path = Array.isArray(issue.path) && issue.path.length > 0 ? issue.path.join(".") : "(result)";
      return `${path}: ${String(issue.message)}`;
    })
    .join("; ");
}

function failureOf(transport: Transport | undefined): string | undefined {
  return transport instanceof GroupStdioTransport ? transport.failure : undefined;
}

/** Builds the transport for an entry; header secrets and env refs are resolved once, now. */
function transportFactory(entry: McpServerEntry, options: McpConnectionOptions, spawn: GroupSpawnOptions | undefined): () => Transport {
  if (entry.url === undefined) {
    const stdio = spawn ?? stdioSpawnOptions(entry, options);
    return () => new GroupStdioTransport(stdio);
  }
  const headers = resolveHeaders(entry, options.secrets);
  const url = new URL(entry.url);
  return () => new StreamableHTTPClientTransport(url, { requestInit: { headers } });
}
