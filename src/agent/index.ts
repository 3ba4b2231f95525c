/** The agent loop's public surface. */
export { runAgent, type PriceFunction, type RunLimits, type RunOptions } from "./run-agent.ts";
export type { AgentEvent, AgentEventListener } from "./events.ts";
export { finishReasons, type FinishReason, type RunResult, type Step, type ToolCallRecord } from "./result.ts";
export type { OutputSchema, OutputVerdict } from "./output-schema.ts";
export {
  ApprovalRequiredError,
  BudgetExceededError,
  CancelReason,
  ContentFilterError,
  DeadlineReached,
  MaxStepsError,
  OutputSchemaError,
  RunCancelledError,
  RunError,
  RunJournalError,
  RunModelError,
  RunSystemError,
  RunTimeoutError,
} from "./errors.ts";
export { executeToolCall, type ToolCallContext } from "./execute-tool-call.ts";
export { fitContext, estimateTokens, trimmedToolOutput } from "./context-window.ts";
export { scheduleToolCalls } from "./schedule-tool-calls.ts";
