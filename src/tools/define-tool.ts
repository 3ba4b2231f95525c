import { z } from "zod";
import { SkiffError } from "../errors.ts";
import type { JsonSchema } from "../model/model.ts";
import { type Tool, type ToolContext, ToolInputError, toolNamePattern } from "./tool.ts";
import { formatZodIssues } from "./format-issues.ts";

export interface ToolDefinition<Input extends z.ZodType> {
  readonly name: string;
  readonly description: string;
  /** One schema gives the handler's argument type, the JSON Schema sent to the model and validation. */
  readonly input: Input;
  readonly run: (input: z.output<Input>, context: ToolContext) => Promise<unknown>;
  readonly type?: "function" | "extension";
  readonly source?: string;
  /** Running it twice has the effect of running it once (see Tool.idempotent). */
  readonly idempotent?: boolean;
}

/** A tool built by defineTool; `run` keeps the handler's inferred argument type. */
export interface DefinedTool<Input extends z.ZodType> extends Tool {
  readonly input: Input;
  readonly run: (input: z.output<Input>, context: ToolContext) => Promise<unknown>;
}

/**
 * Defines a tool from one zod schema.
 *
 * @example
 * const time = defineTool({
 *   name: "time",
 *   description: "Current date and time in an IANA time zone",
 *   input: z.object({ zone: z.string() }),
 *   run: async ({ zone }) => ({ zone, now: new Date().toISOString() }),
 * });
 */
export function defineTool<Input extends z.ZodType>(definition: ToolDefinition<Input>): DefinedTool<Input> {
  if (!toolNamePattern.test(definition.name)) {
    throw new SkiffError(
      "tool_definition_invalid",
      `Tool name "${definition.name}" is not accepted by model APIs: use 1 to 64 of A-Z a-z 0-9 _ -.`,
    );
  }
  const parameters = z.toJSONSchema(definition.input, { io: "input" }) as JsonSchema;
  if (parameters["type"] !== "object") {
    throw new SkiffError(
      "tool_definition_invalid",
      `Tool "${definition.name}" must take an object of arguments (z.object), not ${String(parameters["type"])}.`,
    );
  }
  // The "$schema" key is noise to model APIs and some reject it.
  const { $schema: _ignored, ...modelParameters } = parameters;
  return {
    name: definition.name,
    description: definition.description,
    parameters: modelParameters,
    type: definition.type ?? "function",
    source: definition.source ?? "builtin",
    ...(definition.idempotent ? { idempotent: true } : {}),
    input: definition.input,
    run: definition.run,
    async execute(args, context) {
      const parsed = definition.input.safeParse(args);
      if (!parsed.success) throw new ToolInputError(formatZodIssues(parsed.error.issues));
      return definition.run(parsed.data, context);
    },
  };
}
