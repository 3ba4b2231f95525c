import { ToolFailure } from "../tool.ts";

/**
 * Renders an MCP `CallToolResult` as the text the model reads: text parts as they are, other
 * parts as a short placeholder, `structuredContent` as JSON when there is no text. A result
 * with `isError` becomes a ToolFailure carrying the server's words.
 */
export function renderMcpResult(result: Readonly<Record<string, unknown>>, toolLabel: string): string {
  if ("toolResult" in result) return JSON.stringify(result["toolResult"]); // protocol 2024-10-07 servers
  const content = Array.isArray(result["content"]) ? (result["content"] as unknown[]) : [];
  const parts = content.map(renderPart).filter((part) => part !== "");
  let text = parts.join("\n");
  if (text === "" && result["structuredContent"] !== undefined) text = JSON.stringify(result["structuredContent"]);
  if (result["isError"] === true) {
    throw new ToolFailure(`MCP tool ${toolLabel} reported an error: ${text || "(no details)"}`, { code: "mcp_tool_error" });
  }
  return text;
}

function renderPart(part: unknown): string {
  if (typeof part !== "object" || part === null) return "";
  const item = part as Record<string, unknown>;
  switch (item["type"]) {
    case "text":
      return typeof item["text"] === "string" ? item["text"] : "";
    case "image":
    case "audio":
      return `[${item["type"]} ${String(item["mimeType"] ?? "")}, ${typeof item["data"] === "string" ? Math.floor((item["data"].length * 3) / 4) : 0} bytes, not shown]`;
    case "resource_link":
      return `[resource ${String(item["uri"] ?? "")}${item["name"] ? ` "${String(item["name"])}"` : ""}]`;
    case "resource": {
      const resource = (item["resource"] ?? {}) as Record<string, unknown>;
      return typeof resource["text"] === "string" ? resource["text"] : `[resource ${String(resource["uri"] ?? "")}, binary, not shown]`;
    }
    default:
      return "";
  }
}
