import { ApprovalRequiredError, BudgetExceededError, MaxStepsError, RunSystemError, OutputSchemaError, RunCancelledError, RunModelError, RunTimeoutError } from "../agent/index.ts";
import { ConfigError, formatIssue, ModelError, SkiffError, SystemError, UsageError } from "../errors.ts";

/** Exit codes, as DESIGN section 5 fixes them. */
export const ExitCode = {
  ok: 0,
  runFailed: 1,
  usage: 2,
  budget: 3,
  /** The run stopped before calls that need a person's approval, and nobody could give it. */
  requiresAction: 4,
  /** The answer did not match `--output-schema` after its corrective turns. */
  outputSchema: 5,
  timeout: 124,
  interrupted: 130,
} as const;

/** Maps an error to the exit code a script can rely on. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof ConfigError || error instanceof UsageError) return ExitCode.usage;
  if (error instanceof RunTimeoutError) return ExitCode.timeout;
  if (error instanceof RunCancelledError) return ExitCode.interrupted;
  if (error instanceof BudgetExceededError) return ExitCode.budget;
  if (error instanceof ApprovalRequiredError) return ExitCode.requiresAction;
  if (error instanceof OutputSchemaError) return ExitCode.outputSchema;
  if (error instanceof MaxStepsError || error instanceof RunModelError || error instanceof ModelError) return ExitCode.runFailed;
  return ExitCode.runFailed;
}

/** One clear line (or one per config issue) for stderr; the stack only with --verbose. */
export function describeError(error: unknown, verbose: boolean): string {
  if (error instanceof ConfigError) {
    const lines = error.issues.map((issue) => `skiff: config error: ${formatIssue(issue)}`);
    return `${lines.join("\n")}\n${verbose && error.stack ? `${error.stack}\n` : ""}`;
  }
  // Our fault, not the caller's or the model's: say so, as for an error that is not ours at all.
  if (error instanceof SystemError || error instanceof RunSystemError) {
    return `skiff: internal error: ${error.message} (this is a bug; rerun with --verbose for the stack)\n${verbose ? stackOf(error) : ""}`;
  }
  if (error instanceof SkiffError) {
    const kind = error instanceof UsageError ? "usage" : "error";
    return `skiff: ${kind}: ${error.message}\n${verbose ? `${stackOf(error)}` : ""}`;
  }
  const message = error instanceof Error ? error.message : String(error);
  return `skiff: internal error: ${message} (this is a bug; rerun with --verbose for the stack)\n${verbose ? stackOf(error) : ""}`;
}

function stackOf(error: unknown): string {
  let out = "";
  let current: unknown = error;
  while (current instanceof Error) {
    out += `${current.stack ?? current.message}\n`;
    current = current.cause;
    if (current) out += "caused by: ";
  }
  return out;
}
