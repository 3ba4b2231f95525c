import type { ModelResponse } from "../model/model.ts";
import type { ChatSpan, RunSpan, RunSpanOutcome, ToolSpan, Tracer } from "./tracer.ts";

/** A finished span as the tree shows it. */
export interface TreeSpan {
  readonly name: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly detail: string;
  readonly error: string | undefined;
}

interface OpenSpan {
  name: string;
  startMs: number;
  endMs: number | undefined;
  detail: string;
  error: string | undefined;
}

export interface TreeTracerOptions {
  /** Where the rendered tree goes (stderr in the CLI). */
  readonly write: (text: string) => void;
  readonly now?: () => number;
  /** Columns for the timeline bar. */
  readonly barWidth?: number;
}

/**
 * The `--trace` console tracer: records each run's agent, chat and tool spans with their times
 * and prints them as a tree with a timeline, so parallel tools are visibly side by side.
 */
export function createTreeTracer(options: TreeTracerOptions): Tracer {
  const now = options.now ?? performance.now.bind(performance);
  return {
    startRun(info) {
      const root: OpenSpan = { name: `invoke_agent ${info.agentName}`, startMs: now(), endMs: undefined, detail: "", error: undefined };
      const children: OpenSpan[] = [];
      const open = (name: string): OpenSpan => {
        const span: OpenSpan = { name, startMs: now(), endMs: undefined, detail: "", error: undefined };
        children.push(span);
        return span;
      };
      const run: RunSpan = {
        traceId: undefined,
        startChat(chat): ChatSpan {
          const span = open(`chat ${chat.model}${chat.attempt > 1 ? ` (attempt ${chat.attempt})` : ""}`);
          return {
            end(response: ModelResponse) {
              span.endMs = now();
              span.detail = `in ${response.usage.inputTokens} · out ${response.usage.outputTokens} tok · ${response.finishReason}`;
            },
            fail(error) {
              span.endMs = now();
              span.error = describe(error);
            },
            event() {},
          };
        },
        startTool(tool): ToolSpan {
          const span = open(`execute_tool ${tool.name}`);
          return {
            traceparent: undefined,
            end() {
              span.endMs = now();
              span.detail = tool.callId;
            },
            fail(error, errorType) {
              span.endMs = now();
              span.detail = tool.callId;
              span.error = `${errorType}: ${describe(error)}`;
            },
          };
        },
        end(outcome: RunSpanOutcome) {
          root.endMs = now();
          root.detail = `in ${outcome.usage.inputTokens} · out ${outcome.usage.outputTokens} tok · ${outcome.finishReason}`;
          if (outcome.error !== undefined) root.error = describe(outcome.error);
          const finished = (span: OpenSpan): TreeSpan => ({
            name: span.name,
            startMs: span.startMs,
            endMs: span.endMs ?? root.endMs!,
            detail: span.detail,
            error: span.error,
          });
          options.write(renderTree(finished(root), children.map(finished), options.barWidth ?? 24));
        },
      };
      return run;
    },
  };
}

/** Renders a root span and its children as an indented tree with a timeline bar per span. */
export function renderTree(root: TreeSpan, children: readonly TreeSpan[], barWidth: number): string {
  const total = Math.max(root.endMs - root.startMs, 0.001);
  const rows = [root, ...children].map((span, index) => {
    const prefix = index === 0 ? "" : index === children.length ? "└─ " : "├─ ";
    const offset = span.startMs - root.startMs;
    const duration = span.endMs - span.startMs;
    const from = Math.min(barWidth - 1, Math.floor((offset / total) * barWidth));
    const to = Math.max(from + 1, Math.min(barWidth, Math.ceil(((offset + duration) / total) * barWidth)));
    const bar = "·".repeat(from) + "█".repeat(to - from) + "·".repeat(barWidth - to);
    return {
      label: `${prefix}${span.name}`,
      timing: `+${ms(offset)} ${ms(duration)}`,
      bar,
      note: span.error ? `ERROR ${span.error}` : span.detail,
    };
  });
  const labelWidth = Math.max(...rows.map((row) => row.label.length));
  const timingWidth = Math.max(...rows.map((row) => row.timing.length));
  return `${rows
    .map((row) => `${row.label.padEnd(labelWidth)}  ${row.timing.padStart(timingWidth)}  ${row.bar}  ${row.note}`.trimEnd())
    .join("\n")}\n`;
}

function ms(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(2)}s` : `${value.toFixed(1)}ms`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
