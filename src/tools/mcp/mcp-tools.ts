import type { Tool as McpTool } from "@modelcontextprotocol/sdk/types.js";
import { ConfigError, configIssue, type Issue } from "../../errors.ts";
import type { JsonSchema } from "../../model/model.ts";
import { compileParametersLoosely } from "../json-schema.ts";
import { createSemaphore, type Semaphore } from "../../util/semaphore.ts";
import { takeSlots } from "../outbound.ts";
import type { Tool } from "../tool.ts";
import { McpConnection, type McpConnectionOptions, type McpServerEntry } from "./mcp-connection.ts";
import { mcpToolName } from "./tool-names.ts";

/** The tools of every configured MCP server, and how to stop the servers. */
export interface McpToolSet {
  readonly tools: readonly Tool[];
  /** Stops every server (stdio) or ends every session (HTTP); bounded in time. */
  readonly close: () => Promise<void>;
}

/**
 * Starts every `[[mcp]]` server at once and lists its tools, named `<server>__<tool>`. A server
 * that cannot start or list its tools stops start-up with a ConfigError naming it (the others
 * are closed again): a service should not come up silently missing tools. `taken` holds the
 * names already used by other tools and receives the new ones.
 */
export async function startMcpServers(
  entries: readonly McpServerEntry[],
  options: McpConnectionOptions & { readonly outbound?: Semaphore },
  taken: Set<string>,
): Promise<McpToolSet> {
  const connections = entries.map((entry) => new McpConnection(entry, options));
  const close = async () => {
    await Promise.all(connections.map((connection) => connection.close()));
  };
  const listed = await Promise.allSettled(connections.map((connection) => connection.listTools()));
  const issues: Issue[] = [];
  listed.forEach((outcome, index) => {
    if (outcome.status === "rejected") {
      const reason = outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason);
      issues.push(configIssue(`mcp[${entries[index]!.name}]`, reason, { code: "unavailable" }));
    }
  });
  if (issues.length > 0) {
    await close();
    throw new ConfigError(issues);
  }

  const tools: Tool[] = [];
  listed.forEach((outcome, index) => {
    if (outcome.status !== "fulfilled") return;
    const entry = entries[index]!;
    // Calls to an HTTP server each hold a connection, so they count against the shared budget;
    // a stdio server multiplexes every call over its pipes.
    const limits = {
      own: entry.max_concurrent === undefined ? undefined : createSemaphore(entry.max_concurrent),
      shared: entry.url === undefined ? undefined : options.outbound,
    };
    for (const remote of outcome.value) tools.push(mcpTool(remote, connections[index]!, limits, taken, entry));
  });
  return { tools, close };
}

function mcpTool(
  remote: McpTool,
  connection: McpConnection,
  limits: { readonly own: Semaphore | undefined; readonly shared: Semaphore | undefined },
  taken: Set<string>,
  entry: McpServerEntry,
): Tool {
  const parameters = compileParametersLoosely(remote.inputSchema as JsonSchema);
  return {
    name: mcpToolName(connection.name, remote.name, taken),
    description: remote.description ?? remote.title ?? `Tool "${remote.name}" of MCP server "${connection.name}"`,
    parameters: parameters.schema,
    type: "extension",
    source: `mcp:${connection.name}`,
    ...(entry.timeout === undefined ? {} : { timeoutMs: entry.timeout }),
    // The server's own word (MCP tool annotations); a hint, but the only one there is.
    ...(remote.annotations?.idempotentHint === true || remote.annotations?.readOnlyHint === true ? { idempotent: true } : {}),
    async execute(args, context) {
      const valid = parameters.validate(args);
      const release = await takeSlots(limits.shared, limits.own, context.signal);
      try {
        return await connection.callTool(remote.name, valid, context.signal);
      } finally {
        release();
      }
    },
  };
}
