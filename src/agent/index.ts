/** The agent loop's public surface. */
export { runAgent, type RunLimits, type RunOptions } from "./run-agent.ts";
export type { AgentEvent, AgentEventListener } from "./events.ts";
export type { FinishReason, RunResult, Step, ToolCallRecord } from "./result.ts";
export {
  CancelReason,
  DeadlineReached,
  MaxStepsError,
  RunCancelledError,
  RunError,
  RunModelError,
  RunTimeoutError,
} from "./errors.ts";
export { runResultJson, usageJson } from "./result-json.ts";
export { executeToolCall, type ToolCallContext } from "./execute-tool-call.ts";
