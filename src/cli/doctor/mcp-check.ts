import type { Config } from "../../config/index.ts";
import { redactUrl } from "../../util/redact-url.ts";
import { type CheckResult, type DoctorCheck, result } from "./check.ts";

type McpEntry = Config["mcp"][number];

/**
 * Connects to one `[[mcp]]` server the way the agent does (start it or reach its URL, handshake,
 * list its tools), closes it, and returns the tool names; rejects with an error that says why.
 * main.ts passes one built on the MCP client in tools/, so cli/ stays free of adapters.
 */
export type McpProbe = (entry: McpEntry) => Promise<readonly string[]>;

/** Checks that an `[[mcp]]` server starts (or answers) and lists its tools. */
export function mcpCheck(entry: McpEntry, probe: McpProbe): DoctorCheck {
  return { name: `mcp ${entry.name}`, run: () => checkMcp(entry, probe) };
}

async function checkMcp(entry: McpEntry, probe: McpProbe): Promise<CheckResult> {
  const started = performance.now();
  const how = entry.url !== undefined ? redactUrl(entry.url) : `"${redactUrl(entry.command!.join(" "))}"`;
  try {
    const tools = await probe(entry);
    const ms = Math.round(performance.now() - started);
    const listed = tools.length === 0 ? "no tools" : `${tools.length} tool(s): ${tools.slice(0, 5).join(", ")}${tools.length > 5 ? ", …" : ""}`;
    if (tools.length === 0) return result.warn(`${how} answered, but offers no tools (${ms} ms)`, "check the server's own configuration");
    return result.ok(`${how} answered the MCP handshake, ${listed} (${ms} ms)`);
  } catch (error) {
    const reason = redactUrl(error instanceof Error ? error.message : String(error));
    const fix =
      entry.url !== undefined
        ? `start the server, or correct url (and headers) of [[mcp]] "${entry.name}"`
        : `run ${how} by hand to see why; correct command, cwd or env of [[mcp]] "${entry.name}"`;
    return result.fail(entry.url !== undefined ? `${how}: ${reason}` : reason, fix);
  }
}
