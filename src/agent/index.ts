/** The agent loop's public surface. */
export { runAgent, type PriceFunction, type RunLimits, type RunOptions } from "./run-agent.ts";
export type { AgentEvent, AgentEventListener } from "./events.ts";
export type { FinishReason, RunResult, Step, ToolCallRecord } from "./result.ts";
export {
  ApprovalRequiredError,
  BudgetExceededError,
  CancelReason,
  ContentFilterError,
  DeadlineReached,
  MaxStepsError,
  RunCancelledError,
  RunError,
  RunModelError,
  RunTimeoutError,
} from "./errors.ts";
export { runResultJson, usageJson } from "./result-json.ts";
export { executeToolCall, type ToolCallContext } from "./execute-tool-call.ts";
export { fitContext, estimateTokens, trimmedToolOutput } from "./context-window.ts";
export { scheduleToolCalls } from "./schedule-tool-calls.ts";
