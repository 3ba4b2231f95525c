import { ConfigError, configIssue } from "../errors.ts";
import type { Tool } from "./tool.ts";

export interface ToolSelection {
  /**
   * Built-in tools by name, or factories that build them; only those listed in `enable` are
   * turned on, and a factory runs only then (so fs_root is needed only when an fs_* tool is on).
   */
  readonly builtins: Readonly<Record<string, Tool | (() => Tool)>>;
  /** Names from `--tools` / `tools.enable`. */
  readonly enable: readonly string[];
  /** Names from `tools.disable`; applies to every tool, declared ones too. */
  readonly disable: readonly string[];
  /** Tools declared in config or discovered from MCP servers: on by being declared. */
  readonly declared?: readonly Tool[];
  /**
   * How names of tools not listed yet begin (`<server>__` of MCP servers `config check` does not
   * start): `disable` may name such a tool.
   */
  readonly unlisted?: readonly string[];
}

/**
 * Picks the tools a run may use. Built-ins are off unless enabled; declared tools are on unless
 * disabled. Unknown names and duplicate tool names are configuration errors naming the choices.
 */
export function selectTools(selection: ToolSelection): Tool[] {
  const declared = selection.declared ?? [];
  const known = [...Object.keys(selection.builtins), ...declared.map((tool) => tool.name)];
  const unknownEnabled = selection.enable.filter((name) => !(name in selection.builtins));
  if (unknownEnabled.length > 0) {
    throw new ConfigError([
      configIssue(
        "tools.enable",
        `no built-in tool named ${unknownEnabled.map((n) => `"${n}"`).join(", ")}; built-ins are ${Object.keys(selection.builtins).join(", ")} (declared and MCP tools are on without being enabled)`,
        { code: "not_found" },
      ),
    ]);
  }
  const unlisted = selection.unlisted ?? [];
  const unknownDisabled = selection.disable.filter((name) => !known.includes(name) && !unlisted.some((prefix) => name.startsWith(prefix)));
  if (unknownDisabled.length > 0) {
    throw new ConfigError([
      configIssue("tools.disable", `no tool named ${unknownDisabled.map((n) => `"${n}"`).join(", ")}; known tools are ${known.join(", ")}`, { code: "not_found" }),
    ]);
  }
  const chosen = [...new Set(selection.enable)]
    .filter((name) => !selection.disable.includes(name))
    .map((name) => {
      const builtin = selection.builtins[name]!;
      return typeof builtin === "function" ? builtin() : builtin;
    });
  const all = [...chosen, ...declared].filter((tool) => !selection.disable.includes(tool.name));
  const seen = new Set<string>();
  for (const tool of all) {
    if (seen.has(tool.name)) {
      throw new ConfigError([configIssue("tools", `two tools are named "${tool.name}"; tool names must be unique`, { code: "conflict" })]);
    }
    seen.add(tool.name);
  }
  return all;
}
