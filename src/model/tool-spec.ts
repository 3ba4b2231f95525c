/**
 * What the model is told about a tool. Its own file, below both model.ts and the tracing port
 * (telemetry/tracer.ts), so those two need not import each other.
 */

/** A JSON Schema object, as sent to the model for a tool's parameters. */
export type JsonSchema = { readonly [key: string]: unknown };

/** What the model is told about one tool. */
export interface ToolSpec {
  readonly name: string;
  readonly description: string;
  readonly parameters: JsonSchema;
}
