import { z } from "zod";

/** What `skiff keys new` prints and `[[server.keys]]` holds: the SHA-256 of the key, never the key. */
export const keyHashPattern = /^sha256:[0-9a-f]{64}$/;

/** A limit that is a positive whole number; leaving it out means no limit, so 0 is refused as ambiguous. */
const positiveInt = (what: string) =>
  z
    .number()
    .int(`${what} is a whole number`)
    .min(1, `${what} must be at least 1; leave the key out for no limit (to shut a key out, remove it and reload)`);

/**
 * `[[server.keys]]`: one client of `skiff serve`, with its own limits, tools and usage. The key
 * itself is never in the config: `hash` is its SHA-256, as `skiff keys new NAME` prints it.
 */
export const apiKeyEntry = z.strictObject({
  /** Shown in logs, metrics (the `key` label), spans and /v1/usage: never the key itself. */
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, "a key name is 1 to 64 of A-Z a-z 0-9 _ . - starting with a letter or digit (it is a metrics label)"),
  hash: z
    .string()
    .transform((text) => text.trim().toLowerCase())
    .pipe(z.string().regex(keyHashPattern, 'expected "sha256:" and 64 hex digits, as `skiff keys new NAME` prints (the key itself never goes in the config)')),
  /** Requests that start a run (POST /v1/runs, /v1/chat/completions) per clock minute. */
  requests_per_minute: positiveInt("requests_per_minute").optional(),
  /** Runs of this key in flight at once, per replica. */
  max_concurrent: positiveInt("max_concurrent").optional(),
  /** Input + output tokens per UTC day, over every replica sharing the database. */
  tokens_per_day: positiveInt("tokens_per_day").optional(),
  /** USD per UTC day, priced from [pricing]. */
  cost_per_day: z.number().positive("cost_per_day must be above 0; leave the key out for no limit").optional(),
  /** The tools this key's runs may use (names or * globs); unset: every tool; []: none. */
  tools: z.array(z.string().regex(/^[A-Za-z0-9_*-]{1,64}$/, "a tool name (or a * glob) is 1 to 64 of A-Z a-z 0-9 _ - *")).optional(),
  /** Sees every key's usage in GET /v1/usage (other keys see their own). */
  admin: z.boolean().default(false),
});

/** One `[[server.keys]]` entry as validated. */
export type ApiKeyEntry = z.output<typeof apiKeyEntry>;

/** The list of keys: names and hashes unique, so a log line's name and a presented key each mean one entry. */
export const apiKeyList = z
  .array(apiKeyEntry)
  .default([])
  .superRefine((keys, ctx) => {
    const names = new Map<string, number>();
    const hashes = new Map<string, number>();
    // `params.code` is the issue code config loading reports (see codeOf in load.ts).
    keys.forEach((key, index) => {
      const sameName = names.get(key.name);
      if (sameName !== undefined) ctx.addIssue({ code: "custom", params: { code: "conflict" }, path: [index, "name"], message: `"${key.name}" is also the name of server.keys[${sameName}]; names must be unique` });
      else names.set(key.name, index);
      const sameHash = hashes.get(key.hash);
      if (sameHash !== undefined) ctx.addIssue({ code: "custom", params: { code: "conflict" }, path: [index, "hash"], message: `the same hash as server.keys[${sameHash}] ("${keys[sameHash]!.name}"): one key cannot be two clients; make a new one with skiff keys new` });
      else hashes.set(key.hash, index);
    });
  });
