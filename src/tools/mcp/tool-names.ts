/**
 * Names MCP tools `<server>__<tool>` in the alphabet model APIs accept (`[A-Za-z0-9_-]{1,64}`):
 * other characters become `_`, long names are cut, and a name already taken gets `_2`, `_3`…
 * `taken` holds the names in use so far (other servers, declared tools) and is updated.
 */
export function mcpToolName(server: string, tool: string, taken: Set<string>): string {
  const base = `${mcpToolPrefix(server)}${tool.replace(/[^A-Za-z0-9_-]/g, "_")}`.slice(0, 64);
  let name = base;
  for (let n = 2; taken.has(name); n++) {
    const suffix = `_${n}`;
    name = `${base.slice(0, 64 - suffix.length)}${suffix}`;
  }
  taken.add(name);
  return name;
}

/** How the names of a server's tools begin (`<server>__`), known before the server is started. */
export function mcpToolPrefix(server: string): string {
  return `${server.replace(/[^A-Za-z0-9_-]/g, "_")}__`;
}
