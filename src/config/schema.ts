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
  /** Name of an environment variable holding this provider's key. */
  api_key_env: z.string().optional(),
  /** `gen_ai.provider.name` for this endpoint, e.g. "ollama" (default "openai"). */
  provider: z.string().min(1).optional(),
});

/** Prices in USD per million tokens, for `max_cost`. */
export const priceEntry = z.strictObject({
  input: z.number().min(0),
  output: z.number().min(0),
  /** Price of input tokens served from the provider's cache (default: the input price). */
  cached_input: z.number().min(0).optional(),
});

/** `[breaker]`: the circuit breaker in front of each provider of a fallback chain. */
const breakerSection = z
  .strictObject({
    failures: field(z.number().int().min(1).default(3), {
      kind: "int",
      commands: runCommands,
      help: "Failures in a row (after retries) that open a provider's circuit",
    }),
    cooldown: duration("30s", {
      commands: runCommands,
      help: "How long an open circuit skips its provider",
      zeroRefused: "an open circuit needs a cool-down; to open it less often, raise breaker.failures",
    }),
  })
  .prefault({});

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
  timeout: duration("2m", { commands: runCommands, help: "Deadline of a whole run, under serve at most server.max_timeout", zero: "no limit" }),
  llm_timeout: duration("60s", { commands: runCommands, help: "Deadline of one model request", zero: "no limit" }),
  tool_timeout: duration("30s", { commands: runCommands, help: "Deadline of one tool call", zero: "no limit" }),
  retries: field(z.number().int().min(0).max(10).default(2), {
    kind: "int",
    commands: runCommands,
    help: "Retries of a failed model request (429, 5xx, connection, timeout)",
  }),
  max_retry_wait: duration("60s", {
    commands: runCommands,
    help: "Longest Retry-After honored; a longer one fails at once",
    zeroRefused: 'a provider could park the run for days; to fail at once whenever it asks to wait, use "1ms"',
  }),
  tool_output_limit: size("64KiB", { commands: runCommands, help: "Bytes of a tool's output the model sees" }),
  provider: field(z.string().min(1).optional(), {
    kind: "string",
    placeholder: "NAME",
    commands: runCommands,
    help: 'gen_ai.provider.name of base_url, e.g. "ollama" (default "openai")',
  }),
  max_tokens: field(z.number().int().min(1).optional(), {
    kind: "int",
    commands: runCommands,
    help: "Token budget of one run (input + output over all steps); the run ends with finish_reason budget",
  }),
  max_cost: field(z.number().min(0).optional(), {
    kind: "number",
    placeholder: "USD",
    commands: runCommands,
    help: "Cost budget of one run in USD, priced from [pricing.\"model\"]",
  }),
  max_context_tokens: field(z.number().int().min(256).optional(), {
    kind: "int",
    commands: runCommands,
    help: "Approximate tokens of history sent to the model; oldest tool outputs, then oldest turns, are trimmed",
  }),
  output_schema: field(z.string().min(1).optional(), {
    kind: "string",
    placeholder: "FILE.json",
    commands: ["ask", "serve"],
    help: "JSON Schema file the final answer must match (structured output); under serve, for POST /v1/runs requests without their own output_schema",
  }),
  output_schema_retries: field(z.number().int().min(0).max(5).default(1), {
    kind: "int",
    commands: ["ask", "serve"],
    help: "Corrective turns for an answer that does not match output_schema, before the run fails (exit 5)",
  }),
  pricing: field(z.record(z.string(), priceEntry).default({}), {
    kind: "string",
    flag: false,
    env: false,
    help: "USD per million tokens by model name",
  }),
  breaker: breakerSection,
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
