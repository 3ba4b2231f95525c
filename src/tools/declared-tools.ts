import type { Config } from "../config/index.ts";
import type { SecretSources } from "../config/secrets.ts";
import { ConfigError, type Issue } from "../errors.ts";
import { createCommandTool } from "./command-tool.ts";
import { createHttpTool } from "./http-tool.ts";
import type { Semaphore } from "../util/semaphore.ts";
import type { FetchFn } from "./outbound.ts";
import type { Tool } from "./tool.ts";

/** Tools, and how to release what they hold (MCP server processes and sessions). */
export interface ToolSet {
  readonly tools: readonly Tool[];
  /** Stops MCP servers; bounded in time, never rejects. */
  readonly close: () => Promise<void>;
}

/** What declared tools need from the process around them. */
export interface DeclaredToolsOptions {
  readonly secrets: SecretSources;
  /** skiff's environment (PATH for commands; HOME, PATH… for MCP servers). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** skiff's name and version: `user-agent` of HTTP tools, `clientInfo` for MCP. */
  readonly client: { readonly name: string; readonly version: string };
  /** The budget of tool HTTP requests in flight, shared with http_fetch. */
  readonly outbound: Semaphore;
  readonly fetch?: FetchFn;
  /** `check` (`skiff config check`): look MCP servers' programs up instead of starting them. */
  readonly mcp?: "start" | "check";
}

/**
 * Builds every tool declared in config: `[[tools.http]]`, `[[tools.command]]` and the tools of
 * each `[[mcp]]` server (started here). All problems of the declared tools are reported together
 * in one ConfigError; MCP servers start only when the rest is valid (with `mcp: "check"`, they
 * do not start: only what would stop their start is reported).
 */
export async function buildDeclaredTools(config: Config, options: DeclaredToolsOptions): Promise<ToolSet> {
  const issues: Issue[] = [];
  const tools: Tool[] = [];
  const collect = (build: () => Tool) => {
    try {
      tools.push(build());
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      issues.push(...error.issues);
    }
  };
  const common = { secrets: options.secrets, defaultTimeoutMs: config.tool_timeout };
  const outbound = options.outbound;
  for (const entry of config.tools.http) {
    collect(() =>
      createHttpTool(entry, {
        ...common,
        userAgent: `${options.client.name}/${options.client.version}`,
        outbound,
        ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      }),
    );
  }
  for (const entry of config.tools.command) {
    collect(() => createCommandTool(entry, { ...common, path: options.env["PATH"], cwd: options.cwd }));
  }
  if (options.mcp === "check") {
    const { mcpStartIssues } = await import("./mcp/server-launch.ts");
    issues.push(...mcpStartIssues(config.mcp, { secrets: options.secrets, env: options.env, cwd: options.cwd }));
  }
  if (issues.length > 0) throw new ConfigError(issues);
  if (config.mcp.length === 0 || options.mcp === "check") return { tools, close: async () => {} };

  // Loaded only when an MCP server is declared: the MCP SDK (and the JSON Schema validator it
  // brings) costs start-up time and resident memory that most deployments never need.
  const { startMcpServers } = await import("./mcp/mcp-tools.ts");
  const mcp = await startMcpServers(
    config.mcp,
    { ...common, env: options.env, cwd: options.cwd, clientInfo: options.client, outbound },
    new Set(tools.map((tool) => tool.name)),
  );
  return { tools: [...tools, ...mcp.tools], close: mcp.close };
}
