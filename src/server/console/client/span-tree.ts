/**
 * A finished run's span tree, as `skiff ask --trace` draws it, rebuilt from what GET /v1/runs/{id}
 * keeps: each step's model call and duration, and each tool call's start and duration. The rows
 * are drawn by the same renderTree the CLI uses, so the console shows the very same picture.
 */
import { renderTree, type TreeSpan } from "../../../telemetry/tree.ts";
import type { RunJson, StepJson, UsageJson } from "./types.ts";

/** Columns of the timeline bar, as in the CLI. */
const barWidth = 24;

/**
 * The tree of a run that has steps, or undefined. `modelStarts` (step → ms from the run's start,
 * from the `model.completed` events) places each step exactly; without it a step starts where the
 * one before it ended.
 */
export function runSpanTree(run: RunJson, modelStarts: ReadonlyMap<number, number> = new Map()): TreeSpan | undefined {
  const result = run.steps === undefined && run.partial !== undefined ? run.partial : run;
  const steps = result.steps ?? [];
  if (steps.length === 0) return undefined;
  const children: TreeSpan[] = [];
  let cursor = 0;
  for (const step of steps) {
    const start = modelStarts.get(step.index) ?? cursor;
    children.push(chatSpan(step, start), ...step.tool_calls.map((call) => ({
      name: `execute_tool ${call.name}`,
      startMs: call.start_ms,
      endMs: call.start_ms + call.duration_ms,
      detail: call.id,
      error: call.ok ? undefined : "tool_error",
    })));
    cursor = start + step.duration_ms;
  }
  children.sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs);
  const end = Math.max(result.duration_ms ?? 0, ...children.map((child) => child.endMs));
  const error = run.status === "failed" || run.status === "cancelled" ? [run.error?.type, run.error?.message].filter((part) => part).join(": ") || run.status : undefined;
  const reason = result.finish_reason === undefined ? "" : ` · ${result.finish_reason}`;
  return { name: "invoke_agent skiff", startMs: 0, endMs: end, detail: `${tokens(result.usage)}${reason}`, error, children };
}

/** The tree as text, one row per span, exactly as the CLI prints it. */
export function runSpanTreeText(run: RunJson, modelStarts?: ReadonlyMap<number, number>): string | undefined {
  const tree = runSpanTree(run, modelStarts);
  return tree === undefined ? undefined : renderTree(tree, barWidth);
}

function chatSpan(step: StepJson, start: number): TreeSpan {
  return {
    name: `chat ${step.model}`,
    startMs: start,
    endMs: start + step.model_duration_ms,
    detail: `${tokens(step.usage)} · ${step.finish_reason}`,
    error: step.finish_reason === "incomplete" ? "incomplete" : undefined,
  };
}

function tokens(usage: UsageJson | undefined): string {
  const cached = usage?.cached_input_tokens ? ` (cached ${usage.cached_input_tokens})` : "";
  return `in ${usage?.input_tokens ?? 0}${cached} · out ${usage?.output_tokens ?? 0} tok`;
}
