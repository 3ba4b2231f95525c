import type { z } from "zod";
import { badRequest, type HttpError } from "./http-error.ts";

/** Renders a path as people write it: `input[2].content`. */
export function paramOf(path: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out === "" ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

/**
 * A 400 for the first zod issue, naming the field (`param`) and what would be right. `prefix` is
 * prepended to paths of nested values (e.g. `["input"]`); `fields` lists the accepted top-level
 * fields for "unknown field" messages.
 */
export function issueError(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = [], fields: readonly string[] = []): HttpError {
  const issue = issues[0];
  if (!issue) return badRequest("the request is not valid");
  const path = [...prefix, ...issue.path];
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0] ?? "";
    const param = paramOf([...path, key]);
    const known = fields.length > 0 ? `; the fields are ${fields.join(", ")}` : "";
    return badRequest(`unknown field "${param}"${known}`, param);
  }
  const param = paramOf(path);
  if (param === "") return badRequest(`the request body is not valid: ${issue.message}`);
  if (/ received undefined$/.test(issue.message)) return badRequest(`${param} is required`, param);
  return badRequest(`${param}: ${issue.message}`, param);
}
