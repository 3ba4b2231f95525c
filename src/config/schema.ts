import { z } from "zod";
import { duration, field, size } from "./field.ts";
import { otelSection } from "./sections/otel.ts";
import { serverSection } from "./sections/server.ts";
import { mcpServerEntry, toolsSection } from "./sections/tools.ts";

const runCommands = ["ask", "chat", "serve", "tools", "systemd"] as const;

/** `[[fallback]]`: another provider tried when the primary fails after its retries. */
export const fallbackEntry = z.strictObject({
  model: z.string().min(1),
  base_url: z.url(),
  api_key_file: z.string().optional(),
  api_key_env: z.string().optional(),
});

/**
 * The one schema of skiff's configuration. Flags, SKIFF_* env vars, TOML keys, `--help`,
 * `skiff config schema` and validation errors all come from it. Durations are parsed to ms
 * and sizes to bytes.
 */
export const configSchema = z.strictObject({
  model: field(z.string().min(1).default("gpt-4.1-mini"), {
    kind: "string",
    placeholder: "NAME",
    commands: runCommands,
    help: 'Model name; "demo" is the built-in offline model',
  }),
  base_url: field(z.url().default("https://api.openai.com/v1"), {
    kind: "string",
    placeholder: "URL",
    commands: runCommands,
    help: "OpenAI-compatible endpoint (OPENAI_BASE_URL)",
  }),
  api_key_file: field(z.string().min(1).optional(), {
    kind: "string",
    placeholder: "PATH",
    secret: true,
    commands: runCommands,
    help: "File holding the API key (else OPENAI_API_KEY); never a flag value",
  }),
  system: field(z.string().default("You are skiff, a concise assistant. Use the tools when they help; answer plainly."), {
    kind: "string",
    placeholder: "TEXT",
    commands: runCommands,
    help: "System prompt",
  }),
  max_steps: field(z.number().int().min(1).max(1000).default(10), {
    kind: "int",
    commands: runCommands,
    help: "Most model calls in one run",
  }),
  timeout: duration("2m", { commands: runCommands, help: "Deadline of a whole run" }),
  llm_timeout: duration("60s", { commands: runCommands, help: "Deadline of one model request" }),
  tool_timeout: duration("30s", { commands: runCommands, help: "Deadline of one tool call" }),
  retries: field(z.number().int().min(0).max(10).default(2), {
    kind: "int",
    commands: runCommands,
    help: "Retries of a failed model request (429, 5xx, connection, timeout)",
  }),
  max_retry_wait: duration("60s", {
    commands: runCommands,
    help: "Longest Retry-After honored; a longer one fails at once",
  }),
  tool_output_limit: size("64KiB", { commands: runCommands, help: "Bytes of a tool's output the model sees" }),
  fallback: field(z.array(fallbackEntry).default([]), { kind: "string", flag: false, env: false, help: "Fallbacks" }),
  tools: toolsSection,
  mcp: field(z.array(mcpServerEntry).default([]), { kind: "string", flag: false, env: false, help: "MCP servers" }),
  otel: otelSection,
  server: serverSection,
});

/** The validated configuration. */
export type Config = z.output<typeof configSchema>;
/** The configuration as written (file, env, flags), before defaults and parsing. */
export type ConfigInput = z.input<typeof configSchema>;
