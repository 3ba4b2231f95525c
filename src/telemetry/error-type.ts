import { redactUrl } from "../util/redact-url.ts";
import { ERROR_TYPE_OTHER } from "./semconv.ts";

/**
 * The low-cardinality `error.type` of a failure: the HTTP status when a provider answered with one
 * (as the conventions' examples do), else skiff's stable error `code`, else the class name, else
 * `_OTHER`. Read structurally so telemetry/ needs none of the error classes.
 */
export function errorTypeOf(error: unknown): string {
  if (typeof error !== "object" || error === null) return ERROR_TYPE_OTHER;
  const { status, code, name } = error as { status?: unknown; code?: unknown; name?: unknown };
  if (typeof status === "number" && status >= 100 && status <= 599) return String(status);
  if (typeof code === "string" && code !== "") return code;
  if (typeof name === "string" && name !== "" && name !== "Error") return name;
  return ERROR_TYPE_OTHER;
}

/** The error's message for a span status, on one line, cut short, and without URL credentials. */
export function errorMessageOf(error: unknown): string {
  const text = error instanceof Error ? error.message || error.name : String(error);
  // Errors are redacted where they are made; this catches one that quotes a URL unredacted.
  const line = redactUrl(text).replace(/\s+/g, " ").trim();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
