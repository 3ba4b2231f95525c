import { SkiffError, type SystemError } from "../errors.ts";
import { formatDuration } from "../util/duration.ts";
import type { RunResult } from "./result.ts";

/** A run that ended without an answer still carries what it did. */
export abstract class RunError extends SkiffError {
  /** Messages, steps and usage up to the failure. */
  readonly partial: RunResult;

  constructor(code: string, message: string, partial: RunResult, options?: { cause?: unknown }) {
    super(code, message, options);
    this.partial = partial;
  }
}

/** The run's own deadline (`timeout`) passed. CLI exit 124, HTTP 504. */
export class RunTimeoutError extends RunError {
  readonly timeoutMs: number;

  constructor(timeoutMs: number, partial: RunResult) {
    super(
      "run_timeout",
      `The run did not finish within its timeout of ${formatDuration(timeoutMs)} (after ${partial.steps.length} step(s)); raise --timeout or ask for less.`,
      partial,
    );
    this.timeoutMs = timeoutMs;
  }
}

/** Someone stopped the run: Ctrl-C, a client that went away, server shutdown. CLI exit 130. */
export class RunCancelledError extends RunError {
  constructor(reason: string, partial: RunResult, options?: { cause?: unknown }) {
    super("run_cancelled", `The run was cancelled: ${reason}.`, partial, options);
  }
}

/**
 * The run failed through skiff's own fault (a bug in skiff or a tool adapter); `cause` is the
 * SystemError. CLI exit 1, HTTP 500.
 */
export class RunSystemError extends RunError {
  constructor(cause: SystemError, partial: RunResult) {
    super(cause.code, cause.message, partial, { cause });
  }
}

/** The model failed (after retries and fallbacks) in the middle of a run. CLI exit 1, HTTP 502. */
export class RunModelError extends RunError {
  constructor(cause: SkiffError, partial: RunResult) {
    super(cause.code, cause.message, partial, { cause });
  }
}

/** The model still wanted tools when `max_steps` was reached. CLI exit 1. */
export class MaxStepsError extends RunError {
  constructor(maxSteps: number, partial: RunResult) {
    super(
      "max_steps",
      `The model still wanted to call tools after ${maxSteps} step(s) (max_steps); raise --max-steps or narrow the question.`,
      partial,
    );
  }
}

/**
 * The provider's content filter stopped the answer (finish reason `content_filter`): the text so
 * far is in `partial.output`. CLI exit 1; the HTTP API answers 200 with that finish reason.
 */
export class ContentFilterError extends RunError {
  constructor(partial: RunResult) {
    super(
      "content_filter",
      `The provider's content filter stopped the answer after ${partial.steps.length} step(s)${partial.output ? "; the text before it was kept" : ""}. Rephrase the question, or check the filter settings of the deployment.`,
      partial,
    );
  }
}

/** The abort reason used for the run's own timeout, so it can be told from a cancellation. */
export class DeadlineReached extends Error {
  constructor() {
    super("run deadline reached");
    this.name = "DeadlineReached";
  }
}

/** An abort reason that says who cancelled, e.g. `new CancelReason("interrupted (Ctrl-C)")`. */
export class CancelReason extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = "CancelReason";
  }
}

/** A token or cost budget was crossed; the run stopped cleanly. CLI exit 3. */
export class BudgetExceededError extends RunError {
  constructor(partial: RunResult, limit: string) {
    super(
      "budget_exceeded",
      `The run stopped at its ${partial.budget === "cost" ? "cost" : "token"} budget (${limit}) after ${partial.steps.length} step(s); raise ${partial.budget === "cost" ? "--max-cost" : "--max-tokens"} or ask for less.`,
      partial,
    );
  }
}

/**
 * The run's journal could not be written (the store failed, or another replica took the run over:
 * `cause` says which). The run stops: it could not be recovered past this point. HTTP 503.
 */
export class RunJournalError extends RunError {
  constructor(cause: unknown, partial: RunResult) {
    const code = cause instanceof SkiffError ? cause.code : "run_journal";
    super(code, `The run's journal could not be written, so it stopped: ${cause instanceof Error ? cause.message : String(cause)}`, partial, { cause });
  }
}

/**
 * The run stopped before tool calls that need a person's approval, with nobody there to give it
 * (a script without a terminal). CLI exit 4; the pending calls are in `partial.pendingApprovals`.
 */
export class ApprovalRequiredError extends RunError {
  constructor(partial: RunResult) {
    const pending = partial.pendingApprovals ?? [];
    super(
      "requires_action",
      `The run stopped before ${pending.length} tool call(s) that need approval (${[...new Set(pending.map((p) => p.name))].join(", ")}); run it in a terminal to answer, or approve ahead with --approve TOOL or --yes.`,
      partial,
    );
  }
}

/**
 * The final answer did not match the output schema after its corrective turns (finish reason
 * `output_schema`): the answer is `partial.output`, the errors `partial.outputSchemaErrors`. CLI exit 5.
 */
export class OutputSchemaError extends RunError {
  constructor(partial: RunResult) {
    super(
      "output_schema",
      `The answer did not match the output schema after ${partial.steps.length} step(s): ${(partial.outputSchemaErrors ?? "").split("\n")[0]}; raise output_schema_retries, or simplify the schema.`,
      partial,
    );
  }
}
