import { readFileSync } from "node:fs";
import type { OutputSchema } from "../agent/index.ts";
import { ConfigError, configIssue, type IssueCode } from "../errors.ts";

/**
 * Reads and compiles the JSON Schema file of `output_schema` (`--output-schema FILE.json`). Every
 * problem (missing file, bad JSON, a schema that is not one) is a config error naming the key, so
 * the run stops with exit 2 before a model is asked. The validator is loaded only here, when a
 * schema is set.
 */
export async function loadOutputSchemaFile(path: string, retries: number, source: string | undefined): Promise<OutputSchema> {
  const refuse = (message: string, code: IssueCode = "invalid_value") => new ConfigError([configIssue("output_schema", message, { code, source })]);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw refuse(
      `cannot read ${path}: ${code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "it is a directory" : String(code ?? error)}; give a JSON Schema file`,
      code === "ENOENT" ? "not_found" : "unavailable",
    );
  }
  let schema: unknown;
  try {
    schema = JSON.parse(text);
  } catch (error) {
    throw refuse(`${path} is not JSON (${error instanceof Error ? error.message : String(error)}); give a JSON Schema file`);
  }
  const { compileOutputSchema } = await import("../contract/output-validator.ts");
  const compiled = compileOutputSchema(schema, retries);
  if (!compiled.ok) throw refuse(`${path}: ${compiled.message}`);
  return compiled.value;
}
