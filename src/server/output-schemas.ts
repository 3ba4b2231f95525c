import type { OutputSchema } from "../agent/index.ts";
import type { JsonSchema } from "../model/model.ts";
import type { AppDeps } from "./deps.ts";
import { badRequest } from "./http-error.ts";

/** Compiled schemas kept per app, by their JSON text: clients tend to send the same few with every run. */
const cacheSize = 64;
const caches = new WeakMap<AppDeps, Map<string, OutputSchema>>();

/**
 * The output schema of a POST /v1/runs request: its own `output_schema`, compiled once per
 * distinct schema (Ajv compiles a schema to a function, which costs far more than checking an
 * answer), else the configured one. An invalid schema is a 400 naming the field. The validator is
 * loaded by the first request that has a schema.
 */
export async function outputSchemaFor(deps: AppDeps, schema: JsonSchema | undefined): Promise<OutputSchema | undefined> {
  if (schema === undefined) return deps.outputSchema?.default;
  let cache = caches.get(deps);
  if (!cache) caches.set(deps, (cache = new Map()));
  const key = JSON.stringify(schema);
  const cached = cache.get(key);
  if (cached) return cached;
  const { compileOutputSchema } = await import("../contract/output-validator.ts");
  const compiled = compileOutputSchema(schema, deps.outputSchema?.retries ?? 1);
  if (!compiled.ok) throw badRequest(`output_schema: ${compiled.message}`, "output_schema");
  if (cache.size >= cacheSize) cache.delete(cache.keys().next().value!);
  cache.set(key, compiled.value);
  return compiled.value;
}
