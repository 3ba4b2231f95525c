/**
 * Compiles a user's JSON Schema (`--output-schema`, `output_schema`) into the loop's validator
 * port with Ajv, the reference JSON Schema validator: draft 2020-12 by default, draft-07 when the
 * schema's `$schema` says so, with the standard formats. The only importer of ajv; loaded only by
 * runs that have an output schema.
 */
import type { ErrorObject, ValidateFunction } from "ajv";
import Ajv07 from "ajv";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import type { OutputSchema, OutputVerdict } from "../agent/index.ts";
import type { JsonSchema } from "../model/model.ts";

/** A compiled output schema, or why the schema itself is not usable. */
export type CompiledOutputSchema = { readonly ok: true; readonly value: OutputSchema } | { readonly ok: false; readonly message: string };

/** Errors shown to the model and in the result: enough to fix the answer, not a wall of text. */
const maxErrors = 20;

/** Compiles `schema` (parsed JSON) into an OutputSchema with `retries` corrective turns. */
export function compileOutputSchema(schema: unknown, retries: number): CompiledOutputSchema {
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) {
    return { ok: false, message: `expected a JSON Schema object, such as {"type":"object","properties":{…}}, got ${schema === null ? "null" : Array.isArray(schema) ? "an array" : typeof schema}` };
  }
  const json = schema as JsonSchema;
  const draft07 = typeof json["$schema"] === "string" && /draft-0[4-7]/.test(json["$schema"]);
  // strict: false, as the schemas are the user's: unknown keywords (`x-…`, an OpenAI `strict`
  // flag) are annotations, not mistakes. A schema that breaks the meta-schema is still refused.
  const options = { allErrors: true, strict: false, validateFormats: true };
  const ajv = draft07 ? new Ajv07(options) : new Ajv2020(options);
  addFormats(ajv);
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(json);
  } catch (error) {
    return { ok: false, message: `not a valid JSON Schema: ${error instanceof Error ? error.message : String(error)}` };
  }
  return { ok: true, value: { name: schemaName(json), schema: json, retries, validate: (text) => check(validate, text) } };
}

function check(validate: ValidateFunction, text: string): OutputVerdict {
  let value: unknown;
  try {
    value = JSON.parse(unfenced(text));
  } catch (error) {
    const preview = text.length > 80 ? `${text.slice(0, 80)}…` : text;
    return { ok: false, errors: `the answer is not JSON (${error instanceof Error ? error.message : String(error)}): ${JSON.stringify(preview)}` };
  }
  if (validate(value)) return { ok: true, value };
  const errors = (validate.errors ?? []).slice(0, maxErrors).map(describe);
  const more = (validate.errors?.length ?? 0) - errors.length;
  return { ok: false, errors: [...errors, ...(more > 0 ? [`(and ${more} more)`] : [])].join("\n") };
}

/** The JSON inside a ```json fence: models without response_format support often add one. */
function unfenced(text: string): string {
  const fenced = /^\s*```[a-zA-Z]*\s*\n([\s\S]*?)\n\s*```\s*$/.exec(text);
  return fenced ? fenced[1]! : text;
}

/** One error as `/path: message`, naming the property when Ajv keeps it in params. */
function describe(error: ErrorObject): string {
  const where = error.instancePath === "" ? "(root)" : error.instancePath;
  const params = error.params as Record<string, unknown>;
  const extra =
    typeof params["additionalProperty"] === "string"
      ? ` ("${params["additionalProperty"]}")`
      : Array.isArray(params["allowedValues"])
        ? `: ${params["allowedValues"].map((value) => JSON.stringify(value)).join(", ")}`
        : "";
  return `${where}: ${error.message ?? error.keyword}${extra}`;
}

/** `response_format.json_schema.name`: the schema's title when it fits, else "output". */
function schemaName(schema: JsonSchema): string {
  const title = typeof schema["title"] === "string" ? schema["title"].replaceAll(/[^A-Za-z0-9_-]+/g, "_").slice(0, 64) : "";
  return /[A-Za-z0-9]/.test(title) ? title : "output";
}
