import { z } from "zod";
import { formatDuration, maxDurationMs, parseDuration, parseSize } from "../util/duration.ts";

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

/**
 * What a duration key accepts besides the format. Across every key, "0" means one thing: no limit
 * (for a periodic task: off). A key where no limit cannot work refuses "0" instead, saying why.
 */
export interface DurationRules {
  /** What "0" means here ("no limit", "off"); shown in --help and `skiff init`. Unset: "0" is refused. */
  readonly zero?: string;
  /** Why "0" is refused (keys without `zero`), for the error. */
  readonly zeroRefused?: string;
  /** Longest accepted, in ms (default maxDurationMs, the longest a timer can wait). */
  readonly max?: number;
}

/** A duration key's options: its field metadata and its rules. */
export type DurationOptions = Omit<FieldMeta, "kind"> & DurationRules;

function durationText(rules: DurationRules) {
  const max = rules.max ?? maxDurationMs;
  // A bare number has no unit, except 0 (`timeout = 0` in TOML), which needs none.
  return z.union([z.string(), z.number()]).transform((input, ctx) => {
    const refuse = (message: string) => {
      ctx.addIssue({ code: "custom", message });
      return z.NEVER;
    };
    if (typeof input === "number" && input !== 0) return refuse(`expected a duration with its unit, such as "${input}s" or "${input}ms", got the number ${input}`);
    const text = String(input);
    const ms = parseDuration(text);
    if (ms === undefined) return refuse(`expected a duration like "250ms", "30s", "2m", "1h" or "1d", got "${text}"`);
    if (ms > max) return refuse(`${text.trim()} is longer than the largest accepted duration, ${formatDuration(max)}`);
    const orZero = rules.zero === undefined ? "" : ` (or "0" for ${rules.zero})`;
    // "0.1ms" rounds to 0, which must not quietly turn into "no limit".
    if (ms === 0 && /[1-9]/.test(text)) return refuse(`${text.trim()} is shorter than 1ms; give at least 1ms${orZero}`);
    if (ms === 0 && rules.zero === undefined) {
      return refuse(`0 is not accepted here${rules.zeroRefused ? ` (${rules.zeroRefused})` : ""}; give a duration from 1ms to ${formatDuration(max)}`);
    }
    return ms;
  });
}

/** The field metadata of a duration key; its help says what "0" means when "0" is accepted. */
function durationMeta({ zero, zeroRefused: _refused, max: _max, ...meta }: DurationOptions): FieldMeta {
  return { kind: "duration", placeholder: "DURATION", ...meta, help: zero === undefined ? meta.help : `${meta.help}; "0": ${zero}` };
}

/** A duration written as text ("30s"), parsed to milliseconds and bounded by its rules. */
export function duration(defaultText: string, options: DurationOptions) {
  return field(durationText(options).prefault(defaultText), durationMeta(options));
}

/** A duration with no default (undefined means "use the general setting"). */
export function optionalDuration(options: DurationOptions) {
  return field(durationText(options).optional(), durationMeta(options));
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
