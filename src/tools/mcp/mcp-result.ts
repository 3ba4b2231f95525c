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
      return `[${item["type"]} ${String(item["mimeType"] ?? "")}, ${typeof item["data"] === "string" ? base64ByteLength(item["data"]) : 0} bytes, not shown]`;
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

/**
 * The number of bytes a base64 string decodes to, without decoding it: every 4 characters carry
 * 3 bytes, less one per `=` of padding (an unpadded tail of 2 or 3 characters carries 1 or 2).
 * Whitespace (line-wrapped base64) is not data.
 */
export function base64ByteLength(data: string): number {
  const text = data.replace(/\s+/g, "");
  const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  const characters = text.length - padding;
  return Math.floor((characters * 3) / 4);
}
