import { configLeaves, type LoadedConfig } from "../config/index.ts";
import { formatDuration, formatSize } from "../util/duration.ts";
import { redactUrl } from "../util/redact-url.ts";
import type { Terminal } from "./io.ts";
import { printSchema } from "./schema-cmd.ts";

/** `skiff config check`: the config already loaded without issues, so say where it came from. */
export function checkConfig(loaded: LoadedConfig, terminal: Terminal): void {
  terminal.out(`config ok${loaded.file ? ` (file ${loaded.file})` : " (no config file; flags, env and defaults)"}\n`);
}

/** `skiff config schema`: JSON Schema of the config file, as written (durations and sizes as text); `skiff schema config` too. */
export function printConfigSchema(terminal: Terminal): void {
  printSchema("config", terminal);
}

/**
 * `skiff config show`: the effective value of every key with its source, as TOML-like lines.
 * Secret values never appear: header values other than env:/file: references are masked, and so
 * are credentials in URLs (`redactUrl`: a userinfo password, a `?api_key=` of a tool's url).
 */
export function showConfig(loaded: LoadedConfig, env: Readonly<Record<string, string | undefined>>, terminal: Terminal): void {
  const lines: string[] = [];
  for (const leaf of configLeaves) {
    let value: unknown = loaded.config;
    for (const segment of leaf.path) value = (value as Record<string, unknown> | undefined)?.[segment];
    const source = loaded.sources.get(leaf.key) ?? "default";
    lines.push(`${leaf.key} = ${render(leaf.meta.kind, value, leaf.meta.secret === true)}  # ${source}`);
  }
  const apiKeySource = loaded.config.api_key_file
    ? `file ${loaded.config.api_key_file}`
    : env["OPENAI_API_KEY"]
      ? "env OPENAI_API_KEY"
      : "none";
  lines.push(`# api key: ${apiKeySource === "none" ? "not set" : `set (${apiKeySource}), value hidden`}`);
  terminal.out(`${lines.join("\n")}\n`);
}

function render(kind: string, value: unknown, secret: boolean): string {
  if (value === undefined) return "(unset)";
  // "0" as written: it means no limit, which "0ms" would not say.
  if (kind === "duration" && typeof value === "number") return JSON.stringify(value === 0 ? "0" : formatDuration(value));
  if (kind === "size" && typeof value === "number") return JSON.stringify(formatSize(value));
  // A secret-marked string is a file path (not itself secret); a secret-marked table holds values.
  return JSON.stringify(secret && value !== null && typeof value === "object" ? maskValues(value) : maskNested(value));
}

/** Tables whose values may be literal secrets: header values and environment handed to tools. */
const secretTables = new Set(["headers", "env"]);

function maskNested(value: unknown): unknown {
  if (typeof value === "string") return redactUrl(value);
  if (Array.isArray(value)) return value.map(maskNested);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, secretTables.has(k) && v && typeof v === "object" ? maskValues(v) : maskNested(v)]),
    );
  }
  return value;
}

/** Keeps env:/file: references (they name a secret, they are not one) and masks literal values. */
function maskValues(table: object): Record<string, string> {
  return Object.fromEntries(
    Object.entries(table).map(([k, v]) => [k, typeof v === "string" && /^(env|file):/.test(v) ? v : "****"]),
  );
}
