import { z } from "zod";
import { type ConfigLeaf, configLeaves } from "../config/index.ts";

/** Keys `skiff init` sets; every other key is written commented out, at its default. */
const activeValues: Readonly<Record<string, unknown>> = {
  model: "demo",
  "tools.enable": ["time", "calc"],
};

/** Commented examples of the array-of-tables keys, which have no useful single-line form. */
const tableExamples: Readonly<Record<string, readonly string[]>> = {
  fallback: [
    "# Tried in order when the model fails after its retries (5xx, 429, connection, timeout):",
    "# [[fallback]]",
    '# model = "llama3.1"',
    '# base_url = "http://127.0.0.1:11434/v1"',
  ],
  "tools.http": [
    "# An HTTP service as a tool; the arguments are sent as the JSON body:",
    "# [[tools.http]]",
    '# name = "get_weather"',
    '# description = "Current weather for a city"',
    '# url = "http://127.0.0.1:9000/weather"',
    '# parameters = { type = "object", properties = { city = { type = "string" } }, required = ["city"] }',
    '# headers = { authorization = "env:WEATHER_TOKEN" }',
    '# timeout = "5s"',
  ],
  "tools.command": [
    "# A program as a tool, run without a shell; {name} is replaced by that argument:",
    "# [[tools.command]]",
    '# name = "word_count"',
    '# description = "Counts the words of a file"',
    '# argv = ["wc", "-w", "{path}"]',
    '# parameters = { type = "object", properties = { path = { type = "string" } }, required = ["path"] }',
  ],
  "server.keys": [
    "# A client of skiff serve with its own key and limits: run `skiff keys new NAME` for the entry.",
    "# Every limit is optional; tools = [] offers no tools (docs/keys.md):",
    "# [[server.keys]]",
    '# name = "billing-app"',
    '# hash = "sha256:<64 hex digits, printed by skiff keys new>"',
    "# requests_per_minute = 60",
    "# max_concurrent = 4",
    "# tokens_per_day = 2000000",
    "# cost_per_day = 5.0",
    '# tools = ["time", "calc"]',
  ],
  mcp: [
    "# An MCP server, by command (stdio) or url (streamable HTTP); its tools appear as <name>__<tool>:",
    "# [[mcp]]",
    '# name = "files"',
    '# command = ["npx", "-y", "@modelcontextprotocol/server-filesystem", "/srv/data"]',
  ],
};

const header = [
  "# skiff configuration, written by `skiff init`.",
  "#",
  "# Every key is also a flag and an environment variable: max_steps = --max-steps = SKIFF_MAX_STEPS",
  "# (nested keys join with _: server.listen = --listen = SKIFF_SERVER_LISTEN). Precedence:",
  "# flag > environment > this file > default. Commented lines show the defaults; uncomment to change.",
  "#",
  "#   skiff config check    validate this file      skiff config show   effective values and sources",
  "#   skiff doctor          reach every endpoint    skiff config schema the JSON Schema of this file",
  "#",
  "# Secrets never go in this file: the API key comes from OPENAI_API_KEY or api_key_file, and",
  '# header values may say "env:NAME" or "file:PATH".',
  "#",
  '# Durations are written "250ms", "30s", "2m", "1h" or "1d", at most "24d". "0" means no limit',
  "# where a key's help says so, and is refused by the other keys.",
];

/** The commented skiff.toml that `skiff init` writes: every key, with its help and default, from the schema. */
export function configTemplate(leaves: readonly ConfigLeaf[] = configLeaves): string {
  const groups = new Map<string, string[]>();
  const arrayTables: string[] = [];
  for (const leaf of leaves) {
    const json = jsonSchemaOf(leaf);
    if (json.type === "array" && isObjectSchema(json.items)) {
      arrayTables.push(leaf.key);
      continue;
    }
    const table = leaf.path.slice(0, -1).join(".");
    const lines = groups.get(table) ?? [];
    groups.set(table, lines);
    const key = leaf.path.at(-1)!;
    lines.push(`# ${leaf.meta.help}`);
    if (leaf.key in activeValues) lines.push(`${key} = ${toml(activeValues[leaf.key])}`);
    else lines.push(`# ${key} = ${json.default === undefined ? placeholderOf(leaf) : toml(json.default)}`);
  }
  const out = [...header];
  for (const [table, lines] of groups) {
    out.push("");
    // Table headers stay uncommented, so a key uncommented below lands in the right table.
    if (table !== "") out.push(`[${table}]`);
    out.push(...lines);
  }
  for (const key of arrayTables) {
    out.push("", ...(tableExamples[key] ?? [`# [[${key}]]   (see \`skiff config schema\` for its keys)`]));
  }
  return `${out.join("\n")}\n`;
}

/** `"<PATH>"` for text keys, `<INT>` for numbers: obviously to be filled in, and an error if it is not. */
function placeholderOf(leaf: ConfigLeaf): string {
  const name = `<${leaf.meta.placeholder ?? leaf.meta.kind.toUpperCase()}>`;
  return leaf.meta.kind === "int" || leaf.meta.kind === "number" || leaf.meta.kind === "boolean" ? name : `"${name}"`;
}

interface JsonSchema {
  readonly type?: string;
  readonly default?: unknown;
  readonly items?: unknown;
}

function jsonSchemaOf(leaf: ConfigLeaf): JsonSchema {
  try {
    return z.toJSONSchema(leaf.schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  } catch {
    return {};
  }
}

function isObjectSchema(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const schema = value as { type?: unknown; properties?: unknown; anyOf?: unknown; allOf?: unknown };
  return schema.type === "object" || schema.properties !== undefined || schema.anyOf !== undefined || schema.allOf !== undefined;
}

/** A TOML value for JSON data: strings, numbers, booleans, arrays and inline tables. */
function toml(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `[${value.map(toml).join(", ")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value).map(([k, v]) => `${/^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k)} = ${toml(v)}`);
    return entries.length === 0 ? "{}" : `{ ${entries.join(", ")} }`;
  }
  return '""';
}
