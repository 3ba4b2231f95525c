import { z } from "zod";
import { duration, field, optionalDuration, size } from "../field.ts";

const toolName = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, "a tool name is 1 to 64 of A-Z a-z 0-9 _ - (what model APIs accept)");

/** A JSON Schema object for a declared tool's arguments. Checked further when the tool is built. */
const parametersSchema = z
  .record(z.string(), z.unknown())
  .refine((schema) => schema["type"] === "object", 'parameters must be a JSON Schema with type = "object"')
  .default({ type: "object", properties: {} });

/** A header value: literal, or "env:NAME" / "file:PATH" so secrets stay out of the file. */
const headers = z.record(z.string(), z.string()).default({});

/** `[[tools.http]]`: an HTTP endpoint (a sidecar service) exposed as a tool. */
export const httpToolEntry = z.strictObject({
  name: toolName,
  description: z.string().min(1),
  parameters: parametersSchema,
  url: z.url(),
  method: z.enum(["GET", "POST", "PUT", "PATCH", "DELETE"]).default("POST"),
  headers,
  timeout: optionalDuration({ help: "This tool's timeout (default: tool_timeout)", zero: "no limit" }),
  max_response: size("1MiB", { help: "Largest response body read" }),
  parallel: z.boolean().default(true),
  /** Safe to call twice (GET, PUT of a whole value): a durable run re-runs an interrupted call. */
  idempotent: z.boolean().default(false),
  max_concurrent: z.number().int().min(1).optional(),
});

/** `[[tools.command]]`: a local program exposed as a tool, run without a shell. */
export const commandToolEntry = z.strictObject({
  name: toolName,
  description: z.string().min(1),
  parameters: parametersSchema,
  argv: z.array(z.string()).min(1, "argv needs at least the program to run"),
  cwd: z.string().optional(),
  env: z.record(z.string(), z.string()).default({}),
  timeout: optionalDuration({ help: "This tool's timeout (default: tool_timeout)", zero: "no limit" }),
  max_output: size("64KiB", { help: "Most stdout/stderr bytes kept" }),
  parallel: z.boolean().default(true),
  /** Safe to run twice: a durable run re-runs an interrupted call. */
  idempotent: z.boolean().default(false),
  max_concurrent: z.number().int().min(1).optional(),
});

/** `[[mcp]]`: an MCP server, by command (stdio) or url (streamable HTTP). */
export const mcpServerEntry = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, "an MCP server name is 1 to 32 of A-Z a-z 0-9 _ -"),
    command: z.array(z.string()).min(1).optional(),
    env: z.record(z.string(), z.string()).default({}),
    cwd: z.string().optional(),
    url: z.url().optional(),
    headers,
    timeout: optionalDuration({ help: "Per call (default: tool_timeout)", zero: "no limit" }),
    start_timeout: duration("60s", {
      help: "Longest wait for the server to start and list its tools (npx may download first)",
      zeroRefused: "start-up would wait forever for a server that never answers",
    }),
    max_concurrent: z.number().int().min(1).optional(),
  })
  .refine((entry) => (entry.command === undefined) !== (entry.url === undefined), {
    message: "an [[mcp]] server needs exactly one of command (stdio) or url (streamable HTTP)",
  });

/** `[tools]`: which tools are on and how they are confined. */
export const toolsSection = z
  .strictObject({
    enable: field(z.array(z.string()).default([]), {
      kind: "list",
      flag: "tools",
      placeholder: "A,B",
      help: "Built-in tools to turn on (time, calc, http_fetch, fs_read, fs_list, fs_write); declared tools are on by being declared",
    }),
    disable: field(z.array(z.string()).default([]), {
      kind: "list",
      placeholder: "A,B",
      help: "Tools to turn off, by name (also declared and MCP tools)",
    }),
    require_approval: field(z.array(z.string().min(1)).default([]), {
      kind: "list",
      flag: "require-approval",
      placeholder: "A,B",
      help: 'Tools whose calls wait for a person\'s yes, by name or * glob (e.g. "fs_write,github__*")',
    }),
    fs_root: field(z.string().min(1).optional(), {
      kind: "string",
      placeholder: "DIR",
      help: "Directory the fs_* tools are confined to",
    }),
    fs_write: field(z.boolean().default(false), { kind: "boolean", help: "Allow fs_write inside fs_root" }),
    fs_max_bytes: size("1MiB", { help: "Most bytes fs_read returns per call and fs_write accepts" }),
    fetch_max_response: size("1MiB", { help: "Most bytes of a body http_fetch reads" }),
    allow_hosts: field(z.array(z.string()).default([]), {
      kind: "list",
      placeholder: "HOST,HOST",
      help: "Hosts http_fetch may reach even when they resolve to private or loopback addresses",
    }),
    max_outbound: field(z.number().int().min(1).optional(), {
      kind: "int",
      help: "Most tool HTTP requests in flight, all upstreams together (default: 40% of the open-file limit)",
    }),
    max_parallel: field(z.number().int().min(1).default(64), {
      kind: "int",
      help: "Most tool calls of one step running at once",
    }),
    http: field(z.array(httpToolEntry).default([]), { kind: "string", flag: false, env: false, help: "HTTP tools" }),
    command: field(z.array(commandToolEntry).default([]), {
      kind: "string",
      flag: false,
      env: false,
      help: "Command tools",
    }),
  })
  .prefault({});
