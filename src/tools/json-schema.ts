import { z } from "zod";
import { ConfigError, configIssue } from "../errors.ts";
import type { JsonSchema } from "../model/model.ts";
import { formatZodIssues } from "./format-issues.ts";
import { ToolInputError } from "./tool.ts";

/** A tool's JSON Schema, checked once and ready to validate arguments with. */
export interface CompiledParameters {
  /** The schema as sent to the model (without `$schema`, which some model APIs reject). */
  readonly schema: JsonSchema;
  /**
   * Throws ToolInputError listing every problem with its path; returns the arguments unchanged
   * (JSON Schema `default` is an annotation: nothing is filled in, the tool sees what was sent).
   */
  readonly validate: (args: unknown) => Record<string, unknown>;
}

/**
 * Compiles a declared tool's `parameters` JSON Schema (zod 4's `fromJSONSchema`, so no second
 * validator ships in the binary). A schema it cannot read is a ConfigError at `path`, found at
 * start-up rather than on the first call.
 */
export function compileParameters(schema: JsonSchema, path: string): CompiledParameters {
  const { $schema: _ignored, ...modelSchema } = schema;
  if (modelSchema["type"] !== "object") {
    throw new ConfigError([configIssue(path, `must be a JSON Schema with type = "object", got type = ${JSON.stringify(modelSchema["type"])}`, { code: "invalid_value" })]);
  }
  let validator: z.ZodType;
  try {
    validator = z.fromJSONSchema(modelSchema as z.core.JSONSchema.JSONSchema);
    // Regular expressions compile lazily; run the validator once so a bad `pattern` shows up now.
    validator.safeParse({});
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError([configIssue(path, `is not a JSON Schema skiff can use: ${reason}`, { code: "invalid_value" })], { cause: error });
  }
  return { schema: modelSchema, validate: (args) => validateWith(validator, args) };
}

/**
 * Like compileParameters, for schemas that come from elsewhere (an MCP server): a schema that
 * cannot be compiled is not fatal, arguments are then only checked to be an object and the
 * server validates them itself.
 */
export function compileParametersLoosely(schema: JsonSchema): CompiledParameters {
  try {
    return compileParameters(schema, "inputSchema");
  } catch {
    const { $schema: _ignored, ...modelSchema } = schema;
    return { schema: { ...modelSchema, type: "object" }, validate: requireObject };
  }
}

function validateWith(validator: z.ZodType, args: unknown): Record<string, unknown> {
  const object = requireObject(args);
  const parsed = validator.safeParse(object);
  if (!parsed.success) throw new ToolInputError(formatZodIssues(parsed.error.issues));
  return object;
}

function requireObject(args: unknown): Record<string, unknown> {
  if (!isPlainObject(args)) {
    throw new ToolInputError(`(arguments): expected a JSON object, got ${args === null ? "null" : Array.isArray(args) ? "an array" : typeof args}`);
  }
  return args;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
