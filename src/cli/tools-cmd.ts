import { executeToolCall } from "../agent/index.ts";
import type { Config } from "../config/index.ts";
import { SkiffError, UsageError } from "../errors.ts";
import { noopTracer } from "../telemetry/tracer.ts";
import type { Tool } from "../tools/tool.ts";
import type { Terminal } from "./io.ts";

/** `skiff tools list`: every enabled tool, where it comes from, and its JSON Schema. */
export function listTools(tools: readonly Tool[], json: boolean, terminal: Terminal): void {
  if (json) {
    const rows = tools.map(({ name, description, source, type, parameters }) => ({ name, description, source, type, parameters }));
    terminal.out(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  if (tools.length === 0) {
    terminal.out("No tools are enabled. Turn built-ins on with --tools time,calc or declare tools in skiff.toml.\n");
    return;
  }
  for (const tool of tools) {
    terminal.out(`${tool.name}  [${tool.source}]\n  ${tool.description}\n`);
    terminal.out(`${JSON.stringify(tool.parameters, null, 2).replace(/^/gm, "  ")}\n\n`);
  }
}

/** `skiff tools call NAME '{json}'`: one tool run with the agent's validation, timeout and output limit. */
export async function callTool(
  name: string | undefined,
  argumentsText: string | undefined,
  tools: readonly Tool[],
  config: Config,
  terminal: Terminal,
  signal: AbortSignal,
): Promise<void> {
  if (!name) throw new UsageError("tools call needs a tool name: skiff tools call NAME '{\"arg\": …}'");
  const record = await executeToolCall(
    { id: "cli_call", name, arguments: argumentsText ?? "{}" },
    {
      tools: new Map(tools.map((tool) => [tool.name, tool] as const)),
      runSignal: signal,
      timeoutMs: config.tool_timeout,
      outputLimit: config.tool_output_limit,
      span: noopTracer.startRun({ agentName: "skiff", requestModel: "", input: [], tools: [] }),
      step: 1,
      runStart: performance.now(),
      now: () => performance.now(),
      emit: () => {},
    },
  );
  if (!record.ok) throw new SkiffError("tool_failed", record.output.replace(/^error: /, ""));
  terminal.out(`${record.output}\n`);
}
