import type { z } from "zod";
import { configIssue, type Issue, type IssueCode, issueCodes } from "../errors.ts";
import { configLeaves, type ConfigLeaf, keysAt } from "./leaves.ts";
import { type Config, configSchema } from "./schema.ts";
import { closest } from "./suggest.ts";
import { findTomlLine, tidyTomlMessage, tomlErrorLine } from "./toml-lines.ts";

/** Where configuration comes from; everything is passed in so tests need no globals. */
export interface ConfigSources {
  /** Flag name (without dashes) → raw text, as given on the command line. */
  readonly flags: ReadonlyMap<string, string>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** `--config PATH`, when given. */
  readonly configPath?: string;
  /** Reads a file's text, or returns undefined when it does not exist. */
  readonly readFile: (path: string) => string | undefined;
  readonly parseToml: (text: string) => unknown;
}

/** A loaded config, with where each key came from. */
export interface LoadedConfig {
  readonly config: Config;
  /** Dotted key → `flag --x` / `env X` / `file:line`; keys not listed are defaults. */
  readonly sources: ReadonlyMap<string, string>;
  /** The config file that was read, if any. */
  readonly file: string | undefined;
}

export type LoadResult = { readonly ok: true; readonly value: LoadedConfig } | { readonly ok: false; readonly issues: Issue[] };

type Tree = Record<string, unknown>;

/** Merges default < file < env < flags and validates the result against the one schema. */
export function loadConfig(sources: ConfigSources): LoadResult {
  const issues: Issue[] = [];
  const origin = new Map<string, string>();
  const tree: Tree = {};

  const file = locateFile(sources, issues);
  let fileText = "";
  if (file) {
    fileText = sources.readFile(file) ?? "";
    try {
      const parsed = sources.parseToml(fileText);
      if (parsed && typeof parsed === "object") Object.assign(tree, parsed);
    } catch (error) {
      // The line only, never its text: a broken line may hold a secret (a header value).
      const message = error instanceof Error ? error.message : String(error);
      const line = tomlErrorLine(fileText, message, sources.parseToml);
      issues.push(
        configIssue([], `${line === undefined ? "not" : `line ${line} is not`} valid TOML: ${tidyTomlMessage(message)}`, {
          code: "invalid_value",
          source: line === undefined ? file : `${file}:${line}`,
        }),
      );
    }
  }

  for (const leaf of configLeaves) {
    const fromEnv = envValue(leaf, sources.env);
    if (fromEnv) apply(tree, leaf, fromEnv.text, fromEnv.source, origin, issues);
  }
  for (const [flag, text] of sources.flags) {
    const leaf = configLeaves.find((candidate) => candidate.flag === flag);
    if (leaf) apply(tree, leaf, text, `flag --${flag}`, origin, issues);
  }
  shadowByFlags(tree, origin);
  if (issues.length > 0) return { ok: false, issues };

  const parsed = configSchema.safeParse(tree);
  if (!parsed.success) {
    const where: Where = { origin, file, text: fileText, tree };
    return { ok: false, issues: parsed.error.issues.flatMap((issue) => describeIssue(issue, where)) };
  }
  return { ok: true, value: { config: parsed.data, sources: withFileSources(origin, tree, file, fileText), file } };
}

function locateFile(sources: ConfigSources, issues: Issue[]): string | undefined {
  const explicit = sources.configPath ?? sources.env["SKIFF_CONFIG"];
  if (explicit) {
    if (sources.readFile(explicit) === undefined) {
      const from = sources.configPath ? "flag --config" : "env SKIFF_CONFIG";
      issues.push(configIssue([], `the config file "${explicit}" does not exist or cannot be read`, { code: "not_found", source: from }));
      return undefined;
    }
    return explicit;
  }
  const local = `${sources.cwd}/skiff.toml`;
  return sources.readFile(local) === undefined ? undefined : local;
}

/** Standard variables (OPENAI_*, OTEL_*) sit under skiff's own SKIFF_* ones. */
const standardEnv: Readonly<Record<string, string>> = {
  base_url: "OPENAI_BASE_URL",
  "otel.endpoint": "OTEL_EXPORTER_OTLP_ENDPOINT",
  "otel.traces_endpoint": "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
  "otel.service_name": "OTEL_SERVICE_NAME",
  "otel.capture_content": "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
  "otel.disabled": "OTEL_SDK_DISABLED",
  "otel.sampler": "OTEL_TRACES_SAMPLER",
  "otel.sampler_arg": "OTEL_TRACES_SAMPLER_ARG",
  "otel.max_queue_size": "OTEL_BSP_MAX_QUEUE_SIZE",
  "otel.max_export_batch_size": "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
};

/**
 * Keys that stand for the same setting as another key. `--otlp-endpoint` and
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT both say where spans go; the exporter prefers the traces URL,
 * so a flag would lose to an env var unless the flag clears it (flag > env, DESIGN §6).
 */
const shadows: readonly { readonly key: string; readonly shadowed: readonly string[] }[] = [
  { key: "otel.endpoint", shadowed: ["otel", "traces_endpoint"] },
];

function shadowByFlags(tree: Tree, origin: Map<string, string>): void {
  for (const { key, shadowed } of shadows) {
    const shadowedKey = shadowed.join(".");
    if (!origin.get(key)?.startsWith("flag ") || origin.get(shadowedKey)?.startsWith("flag ")) continue;
    const table = tree[shadowed[0]!];
    if (table && typeof table === "object") delete (table as Tree)[shadowed[1]!];
    origin.delete(shadowedKey);
  }
}

function envValue(leaf: ConfigLeaf, env: ConfigSources["env"]): { text: string; source: string } | undefined {
  if (leaf.env && env[leaf.env] !== undefined && env[leaf.env] !== "") {
    return { text: env[leaf.env]!, source: `env ${leaf.env}` };
  }
  const standard = standardEnv[leaf.key];
  if (standard && env[standard] !== undefined && env[standard] !== "") {
    let text = env[standard]!;
    // The GenAI capture variable also takes the Python util's mode names.
    if (standard === "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT") {
      text = /^(true|1|span_only|span_and_event)$/i.test(text) ? "true" : "false";
    }
    return { text, source: `env ${standard}` };
  }
  return undefined;
}

function apply(tree: Tree, leaf: ConfigLeaf, text: string, source: string, origin: Map<string, string>, issues: Issue[]): void {
  const value = coerce(leaf, text);
  if (!value.ok) {
    issues.push(configIssue(leaf.path, value.message, { code: "invalid_type", source }));
    return;
  }
  let node = tree;
  for (const segment of leaf.path.slice(0, -1)) {
    const next = node[segment];
    if (!next || typeof next !== "object" || Array.isArray(next)) node[segment] = {};
    node = node[segment] as Tree;
  }
  node[leaf.path.at(-1)!] = value.value;
  origin.set(leaf.key, source);
}

function coerce(leaf: ConfigLeaf, text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  switch (leaf.meta.kind) {
    case "int": {
      const trimmed = text.trim();
      return /^-?\d+$/.test(trimmed)
        ? { ok: true, value: Number(trimmed) }
        : { ok: false, message: `expected a whole number, got "${text}"` };
    }
    case "number": {
      const n = Number(text.trim());
      return text.trim() !== "" && Number.isFinite(n) ? { ok: true, value: n } : { ok: false, message: `expected a number, got "${text}"` };
    }
    case "boolean": {
      const t = text.trim().toLowerCase();
      if (["true", "1", "yes", "on"].includes(t)) return { ok: true, value: true };
      if (["false", "0", "no", "off"].includes(t)) return { ok: true, value: false };
      return { ok: false, message: `expected true or false, got "${text}"` };
    }
    case "list":
      return { ok: true, value: text.split(",").map((part) => part.trim()).filter((part) => part !== "") };
    default:
      return { ok: true, value: text };
  }
}

/** What an issue's source is looked up in: flag/env origins, the file's text, the merged values. */
interface Where {
  readonly origin: ReadonlyMap<string, string>;
  readonly file: string | undefined;
  readonly text: string;
  readonly tree: Tree;
}

function describeIssue(issue: z.core.$ZodIssue, where: Where): Issue[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
  if (issue.code === "unrecognized_keys") {
    const known = keysAt(path);
    return issue.keys.map((key) => {
      const full = [...path, key];
      const guess = closest(key, known);
      // A misspelt table (`[sever]`) reads better as a section, with the section it likely meant.
      const section = isTable(valueAt(where.tree, full));
      const what = section ? `unknown section [${dotted(full)}]` : "unknown key";
      const suggestion = guess === undefined ? "" : section ? `; did you mean [${dotted([...path, guess])}]?` : `; did you mean "${guess}"?`;
      return configIssue(full, `${what}${suggestion} Known keys here: ${known.join(", ")}`, { code: "unknown_key", source: sourceOf(full, where) });
    });
  }
  return [configIssue(path, issue.message, { code: codeOf(issue, path, where), source: sourceOf(path, where) })];
}

/**
 * Zod's code in skiff's terms: a type issue where nothing was given is `missing`; a refinement may
 * name its code in `params.code` (duplicate keys are a `conflict`); the rest are invalid values.
 */
function codeOf(issue: z.core.$ZodIssue, path: readonly (string | number)[], where: Where): IssueCode {
  switch (issue.code) {
    case "invalid_type":
      return valueAt(where.tree, path) === undefined ? "missing" : "invalid_type";
    case "custom": {
      const declared: unknown = issue.params?.["code"];
      return issueCodes.find((code) => code === declared) ?? "invalid_value";
    }
    default:
      return "invalid_value";
  }
}

function sourceOf(path: readonly (string | number)[], where: Where): string {
  const fromOrigin = where.origin.get(dotted(path));
  if (fromOrigin) return fromOrigin;
  if (where.file) {
    const line = findTomlLine(where.text, path);
    if (line !== undefined) return `${where.file}:${line}`;
    // Set, and not by a flag or variable: it came from the file even where no line is found.
    if (valueAt(where.tree, path) !== undefined) return where.file;
  }
  return "default";
}

function valueAt(tree: Tree, path: readonly (string | number)[]): unknown {
  let node: unknown = tree;
  for (const segment of path) node = node !== null && typeof node === "object" ? (node as Record<string | number, unknown>)[segment] : undefined;
  return node;
}

/** A TOML table (`[x]`) or array of tables (`[[x]]`). */
function isTable(value: unknown): boolean {
  const isObject = (v: unknown) => v !== null && typeof v === "object" && !Array.isArray(v);
  return isObject(value) || (Array.isArray(value) && value.length > 0 && value.every(isObject));
}

function withFileSources(origin: Map<string, string>, tree: Tree, file: string | undefined, text: string): Map<string, string> {
  if (!file) return origin;
  for (const leaf of configLeaves) {
    if (origin.has(leaf.key)) continue;
    let node: unknown = tree;
    for (const segment of leaf.path) node = node && typeof node === "object" ? (node as Tree)[segment] : undefined;
    if (node !== undefined) {
      const line = findTomlLine(text, leaf.path);
      origin.set(leaf.key, line === undefined ? file : `${file}:${line}`);
    }
  }
  return origin;
}

/** Renders a path as people write it: `tools.http[0].url`. */
export function dotted(path: readonly (string | number)[]): string {
  return path.reduce<string>((out, p) => (typeof p === "number" ? `${out}[${p}]` : out ? `${out}.${p}` : p), "");
}
