import { describe, expect, it } from "bun:test";
import {
  ApprovalRequiredError,
  BudgetExceededError,
  MaxStepsError,
  RunCancelledError,
  RunModelError,
  type RunResult,
  RunSystemError,
  RunTimeoutError,
} from "../../src/agent/index.ts";
import { describeError, ExitCode, exitCodeFor } from "../../src/cli/exit-codes.ts";
import { ConfigError, ModelError, SkiffError, SystemError, UsageError } from "../../src/errors.ts";
import { emptyUsage } from "../../src/model/messages.ts";
import { describeRunFailure } from "../../src/server/run-errors.ts";

const partial: RunResult = {
  output: "",
  messages: [],
  inputMessageCount: 0,
  steps: [],
  usage: emptyUsage,
  costUsd: undefined,
  finishReason: "error",
  traceId: undefined,
  durationMs: 1,
};

describe("exitCodeFor", () => {
  it("maps each error class to its exit code, by class and never by a code string", () => {
    expect(exitCodeFor(new ConfigError([{ code: "invalid_value", path: ["x"], message: "bad" }]))).toBe(ExitCode.usage);
    expect(exitCodeFor(new UsageError("bad"))).toBe(ExitCode.usage);
    expect(exitCodeFor(new RunTimeoutError(1_000, partial))).toBe(ExitCode.timeout);
    expect(exitCodeFor(new RunCancelledError("Ctrl-C", partial))).toBe(ExitCode.interrupted);
    expect(exitCodeFor(new BudgetExceededError({ ...partial, budget: "tokens" }, "10 tokens"))).toBe(ExitCode.budget);
    expect(exitCodeFor(new ApprovalRequiredError(partial))).toBe(ExitCode.requiresAction);
    expect(exitCodeFor(new MaxStepsError(3, partial))).toBe(ExitCode.runFailed);
    expect(exitCodeFor(new RunModelError(new ModelError("503", { retryable: true }), partial))).toBe(ExitCode.runFailed);
    expect(exitCodeFor(new RunSystemError(new SystemError("bug"), partial))).toBe(ExitCode.runFailed);
    // A code string alone means nothing: only the class counts.
    expect(exitCodeFor(new SkiffError("budget_exceeded", "not a budget error"))).toBe(ExitCode.runFailed);
  });

  it("calls our own faults bugs, and the caller's or the model's by what they are", () => {
    expect(describeError(new RunSystemError(new SystemError("Internal error: x is undefined"), partial), false)).toBe(
      "skiff: internal error: Internal error: x is undefined (this is a bug; rerun with --verbose for the stack)\n",
    );
    expect(describeError(new RunModelError(new ModelError("provider said 503", { retryable: true }), partial), false)).toBe("skiff: error: provider said 503\n");
  });
});

describe("describeRunFailure", () => {
  it("answers 500 for a run that failed through skiff's fault, 502 for the model's, by class", () => {
    const ids = { id: "run_1", sessionId: undefined };
    expect(describeRunFailure(new RunSystemError(new SystemError("bug"), partial), ids).http.status).toBe(500);
    expect(describeRunFailure(new RunModelError(new ModelError("503", { retryable: true }), partial), ids).http.status).toBe(502);
    expect(describeRunFailure(new RunModelError(new SkiffError("internal_error", "a code string is not a class"), partial), ids).http.status).toBe(502);
  });
});
