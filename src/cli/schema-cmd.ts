import { z } from "zod";
import { configSchema } from "../config/index.ts";
import { eventSchema } from "../contract/event-schema.ts";
import { resultSchema } from "../contract/result-schema.ts";
import { UsageError } from "../errors.ts";
import type { Terminal } from "./io.ts";

/**
 * The documents `skiff schema` describes, each made from the zod schema that types the code
 * writing it (the config's as written: durations and sizes as text).
 */
const documents = {
  result: () => z.toJSONSchema(resultSchema, { io: "output" }),
  event: () => z.toJSONSchema(eventSchema, { io: "output" }),
  config: () => z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" }),
} as const;

/** The JSON Schema of `name` (result, event or config). */
export function jsonSchemaOf(name: string): Record<string, unknown> {
  if (!Object.hasOwn(documents, name)) {
    throw new UsageError(`schema needs one of ${Object.keys(documents).join(", ")}${name ? ` (got "${name}")` : ""}: skiff schema result`);
  }
  return documents[name as keyof typeof documents]() as Record<string, unknown>;
}

/** `skiff schema result|event|config`: the JSON Schema on stdout. */
export function printSchema(name: string, terminal: Terminal): void {
  terminal.out(`${JSON.stringify(jsonSchemaOf(name), null, 2)}\n`);
}
