import { z } from "zod";
import { parseDuration, parseSize } from "../util/duration.ts";

/** How a leaf's text from a flag or env var is turned into a value before validation. */
export type FieldKind = "string" | "int" | "number" | "boolean" | "list" | "duration" | "size" | "enum";

/** What the CLI, env loader and `--help` need to know about one config key. */
export interface FieldMeta {
  readonly kind: FieldKind;
  readonly help: string;
  /** Flag name without dashes; default: the key path joined with "-". `false`: file only. */
  readonly flag?: string | false;
  /** Env var name; default: SKIFF_ + path joined with "_", upper-cased. `false`: no env var. */
  readonly env?: string | false;
  /** Shown as the flag's value in `--help`, e.g. "DURATION". */
  readonly placeholder?: string;
  /** Names a secret's source (a file path); `config show` still hides values it reads. */
  readonly secret?: boolean;
  /** Commands this key matters to; `--help` of other commands leaves it out. Default: all. */
  readonly commands?: readonly string[];
}

/** The registry that ties each config leaf schema to its CLI/env metadata. */
export const fieldRegistry = z.registry<FieldMeta>();

/** Marks a schema as a config leaf with flag/env metadata. */
export function field<T extends z.ZodType>(schema: T, meta: FieldMeta): T {
  // The registry is keyed by schema instance; its generic signature cannot see through T here.
  (fieldRegistry as z.core.$ZodRegistry<FieldMeta>).add(schema, meta);
  return schema;
}

const durationText = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    ctx.addIssue({ code: "custom", message: `expected a duration like "250ms", "30s", "2m", "1h" or "30d", got "${text}"` });
    return z.NEVER;
  }
  return ms;
});

/** A duration written as text ("30s"), parsed to milliseconds. */
export function duration(defaultText: string, meta: Omit<FieldMeta, "kind">) {
  return field(durationText.prefault(defaultText), { kind: "duration", placeholder: "DURATION", ...meta });
}

/** A duration with no default (undefined means "use the general setting"). */
export function optionalDuration(meta: Omit<FieldMeta, "kind">) {
  return field(durationText.optional(), { kind: "duration", placeholder: "DURATION", ...meta });
}

const sizeText = z.string().transform((text, ctx) => {
  const bytes = parseSize(text);
  if (bytes === undefined) {
    ctx.addIssue({ code: "custom", message: `expected a size like "64KiB", "1MiB" or a number of bytes, got "${text}"` });
    return z.NEVER;
  }
  return bytes;
});

/** A size written as text ("1MiB"), parsed to bytes. */
export function size(defaultText: string, meta: Omit<FieldMeta, "kind">) {
  return field(sizeText.prefault(defaultText), { kind: "size", placeholder: "SIZE", ...meta });
}
