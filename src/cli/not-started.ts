import { eventJson } from "../contract/event-json.ts";
import { notStartedResultJson } from "../contract/result-json.ts";
import { SkiffError } from "../errors.ts";

/** The machine-readable forms of `ask`'s stdout. */
export type DocumentOutput = "json" | "stream-json";

/**
 * What `ask --json` (a result with `error`) or `--stream-json` (a `run.failed` event) prints when
 * it fails before its run begins: a bad flag, config, question or schema file.
 */
export function notStartedDocument(error: unknown, output: DocumentOutput): string {
  const problem = error instanceof SkiffError ? { code: error.code, message: error.message } : { code: "internal_error", message: error instanceof Error ? error.message : String(error) };
  return output === "json" ? `${JSON.stringify(notStartedResultJson(problem), null, 2)}\n` : `${JSON.stringify(eventJson("run.failed", { error: problem }))}\n`;
}

/** The document form an argv asks for, read from the raw words (for errors before they parse). */
export function documentOutputOf(argv: readonly string[]): DocumentOutput | undefined {
  if (argv.includes("--stream-json")) return "stream-json";
  return argv.includes("--json") ? "json" : undefined;
}
