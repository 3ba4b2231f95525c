import type { z } from "zod";
import { type FieldMeta, fieldRegistry } from "./field.ts";
import { configSchema } from "./schema.ts";

/** One settable config key, with the flag and env var that set it. */
export interface ConfigLeaf {
  /** Key path, e.g. ["server", "listen"]. */
  readonly path: readonly string[];
  /** Dotted form, e.g. "server.listen". */
  readonly key: string;
  readonly meta: FieldMeta;
  /** Flag name without dashes, or undefined when the key is file-only. */
  readonly flag: string | undefined;
  /** Env var name, or undefined when the key has none. */
  readonly env: string | undefined;
  readonly schema: z.ZodType;
}

type Internals = { _zod: { def: { type: string; innerType?: z.ZodType; in?: z.ZodType; shape?: Record<string, z.ZodType> } } };

function defOf(schema: z.ZodType): Internals["_zod"]["def"] {
  return (schema as unknown as Internals)._zod.def;
}

/** Looks through default/optional/pipe wrappers for a registered field, or an object to descend into. */
function inspect(schema: z.ZodType): { meta?: FieldMeta; shape?: Record<string, z.ZodType> } {
  let current: z.ZodType | undefined = schema;
  while (current) {
    const meta = fieldRegistry.get(current);
    if (meta) return { meta };
    const def = defOf(current);
    if (def.type === "object") return { shape: def.shape! };
    current = def.type === "pipe" ? def.in : def.innerType;
  }
  return {};
}

function collect(shape: Record<string, z.ZodType>, prefix: readonly string[], out: ConfigLeaf[]): void {
  for (const [name, schema] of Object.entries(shape)) {
    const path = [...prefix, name];
    const { meta, shape: inner } = inspect(schema);
    if (meta) {
      out.push({
        path,
        key: path.join("."),
        meta,
        flag: meta.flag === false ? undefined : (meta.flag ?? path.join("-").replaceAll("_", "-")),
        env: meta.env === false ? undefined : (meta.env ?? `SKIFF_${path.join("_").toUpperCase()}`),
        schema,
      });
    } else if (inner) {
      collect(inner, path, out);
    }
  }
}

/** Every config leaf of the schema, in schema order. */
export const configLeaves: readonly ConfigLeaf[] = (() => {
  const out: ConfigLeaf[] = [];
  collect(configSchema.shape as Record<string, z.ZodType>, [], out);
  return out;
})();

/** The keys allowed in the object at `path` (for "unknown key" messages), or [] when not an object. */
export function keysAt(path: readonly (string | number)[]): string[] {
  let schema: z.ZodType = configSchema;
  for (const segment of path) {
    if (typeof segment === "number") {
      let current: z.ZodType | undefined = schema;
      while (current && defOf(current).type !== "array") {
        const def = defOf(current);
        current = def.type === "pipe" ? def.in : def.innerType;
      }
      if (!current) return [];
      schema = (current as unknown as { _zod: { def: { element: z.ZodType } } })._zod.def.element;
      continue;
    }
    let shape: Record<string, z.ZodType> | undefined;
    let current: z.ZodType | undefined = schema;
    while (current) {
      const def = defOf(current);
      if (def.type === "object") {
        shape = def.shape;
        break;
      }
      current = def.type === "pipe" ? def.in : def.innerType;
    }
    const next = shape?.[segment];
    if (!next) return [];
    schema = next;
  }
  let current: z.ZodType | undefined = schema;
  while (current) {
    const def = defOf(current);
    if (def.type === "object") return Object.keys(def.shape!);
    current = def.type === "pipe" ? def.in : def.innerType;
  }
  return [];
}
