/**
 * The line format of `skiff sessions export` and `import`: one session per line, as JSON with
 * `id`, `version`, `created_at`, `updated_at` (ISO 8601) and `messages` (skiff's stored message
 * form, the one sessions hold). Pinned by test/fixtures/sessions-export.jsonl.
 */
import { z } from "zod";
import type { Message } from "../model/messages.ts";
import { sessionIdPattern, sessionIdRule, type StoredSession } from "./store.ts";

// extra_content and the reasoning fields: what a provider gave to be sent back (src/model/messages.ts).
const toolCall = z.strictObject({ id: z.string(), name: z.string(), arguments: z.string(), extra_content: z.record(z.string(), z.unknown()).optional() });

const message = z.discriminatedUnion("role", [
  z.strictObject({ role: z.literal("user"), content: z.string() }),
  z.strictObject({
    role: z.literal("assistant"),
    content: z.string().nullable(),
    tool_calls: z.array(toolCall).optional(),
    reasoning_content: z.string().optional(),
    reasoning: z.string().optional(),
  }),
  z.strictObject({ role: z.literal("tool"), tool_call_id: z.string(), content: z.string() }),
]);

const sessionLine = z.strictObject({
  id: z.string().regex(sessionIdPattern, sessionIdRule),
  version: z.number().int().min(1),
  created_at: z.iso.datetime({ offset: true }),
  updated_at: z.iso.datetime({ offset: true }),
  messages: z.array(message),
});

/** One session as an export line (no newline). */
export function sessionToJsonLine(session: StoredSession): string {
  return JSON.stringify({
    id: session.id,
    version: session.version,
    created_at: new Date(session.createdAt).toISOString(),
    updated_at: new Date(session.updatedAt).toISOString(),
    messages: session.messages,
  });
}

/** A parsed line, or what is wrong with it (a field path and what would be right). */
export type ParsedSessionLine = { readonly ok: true; readonly session: StoredSession } | { readonly ok: false; readonly message: string };

/** Parses and validates one export line. */
export function parseSessionLine(text: string): ParsedSessionLine {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, message: `not JSON (${error instanceof Error ? error.message : String(error)}); each line must be one session object` };
  }
  const parsed = sessionLine.safeParse(json);
  if (!parsed.success) return { ok: false, message: describeIssue(parsed.error.issues[0]) };
  const line = parsed.data;
  const messages: readonly Message[] = line.messages;
  return {
    ok: true,
    session: { id: line.id, version: line.version, createdAt: Date.parse(line.created_at), updatedAt: Date.parse(line.updated_at), messages },
  };
}

function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return "not a valid session";
  const path = pathOf(issue.path);
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0] ?? "";
    return path === "" ? `unknown field "${key}"; the fields are id, version, created_at, updated_at, messages` : `unknown field "${path}.${key}"`;
  }
  if (path === "") return `expected one JSON object per line with id, version, created_at, updated_at and messages (${issue.message})`;
  if (/received undefined$/.test(issue.message)) return `${path} is missing`;
  if (issue.path.at(-1) === "role") return `${path}: expected "user", "assistant" or "tool" (sessions do not store system messages)`;
  if (issue.path.at(-1) === "created_at" || issue.path.at(-1) === "updated_at") return `${path}: expected an ISO 8601 time such as 2026-01-31T09:30:00.000Z`;
  return `${path}: ${issue.message}`;
}

/** `messages[2].content`, as people write paths. */
function pathOf(path: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of path) out += typeof segment === "number" ? `[${segment}]` : out === "" ? String(segment) : `.${String(segment)}`;
  return out;
}
