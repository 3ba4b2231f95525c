/**
 * The `--trace` console tree. It is drawn from the same finished spans the OTLP exporter gets
 * (otel-setup.ts converts each to a FinishedSpan), so what the tree shows is what a collector gets.
 */
import * as sc from "./semconv.ts";

/** A finished span as the tree needs it; otel-setup.ts converts SDK spans to this. */
export interface FinishedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** Undefined for a root span. */
  readonly parentSpanId: string | undefined;
  readonly name: string;
  /** Epoch milliseconds, sub-millisecond precision. */
  readonly startMs: number;
  readonly endMs: number;
  readonly attributes: Readonly<Record<string, unknown>>;
  /** The status description when the span ended in error. */
  readonly errorMessage: string | undefined;
  readonly isError: boolean;
  /** The span's events; the tree reads `skiff.run.resumed`. */
  readonly events?: readonly { readonly name: string; readonly attributes?: Readonly<Record<string, unknown>> }[];
}

/** One row of the tree: a span with its children. */
export interface TreeSpan {
  readonly name: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly detail: string;
  readonly error: string | undefined;
  readonly children?: readonly TreeSpan[];
}

/** Where the tree goes and how wide its timeline is. */
export interface TreeCollectorOptions {
  /** Where each run's rendered tree goes (stderr in the CLI). */
  readonly write: (text: string) => void;
  /** Columns for the timeline bar. */
  readonly barWidth?: number;
}

/** Receives finished spans and prints a run's tree when its `invoke_agent` span ends. */
export interface TreeCollector {
  add(span: FinishedSpan): void;
}

/**
 * Collects finished spans per trace. Children end before their run (the run closes any still
 * open), so when an `invoke_agent` span arrives, all of its descendants are already here. Siblings
 * are ordered by start, then end, so the order in which they arrived does not show.
 */
export function createTreeCollector(options: TreeCollectorOptions): TreeCollector {
  const pending = new Map<string, FinishedSpan[]>();
  return {
    add(span) {
      if (span.attributes[sc.ATTR_GEN_AI_OPERATION_NAME] !== sc.GEN_AI_OPERATION_INVOKE_AGENT) {
        const list = pending.get(span.traceId);
        if (list) list.push(span);
        else pending.set(span.traceId, [span]);
        return;
      }
      const spans = pending.get(span.traceId) ?? [];
      const used = new Set<FinishedSpan>();
      const build = (node: FinishedSpan): TreeSpan => {
        const children = spans
          .filter((candidate) => candidate.parentSpanId === node.spanId && !used.has(candidate))
          .sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs);
        for (const c of children) used.add(c);
        return { ...describe(node), children: children.map(build) };
      };
      const tree = build(span);
      const rest = spans.filter((candidate) => !used.has(candidate));
      if (rest.length === 0) pending.delete(span.traceId);
      else pending.set(span.traceId, rest);
      options.write(renderTree(tree, options.barWidth ?? 24));
    },
  };
}

/** Renders a span tree, one row per span, with a timeline bar relative to the root. */
export function renderTree(root: TreeSpan, barWidth: number): string {
  const total = Math.max(root.endMs - root.startMs, 0.001);
  const rows: { label: string; timing: string; bar: string; note: string }[] = [];
  const visit = (span: TreeSpan, lead: string, branch: string) => {
    const offset = span.startMs - root.startMs;
    const duration = span.endMs - span.startMs;
    const from = Math.max(0, Math.min(barWidth - 1, Math.floor((offset / total) * barWidth)));
    const to = Math.max(from + 1, Math.min(barWidth, Math.ceil(((offset + duration) / total) * barWidth)));
    rows.push({
      label: `${lead}${branch}${span.name}`,
      timing: `+${ms(offset)} ${ms(duration)}`,
      bar: "·".repeat(from) + "█".repeat(to - from) + "·".repeat(barWidth - to),
      note: span.error ? `ERROR ${span.error}` : span.detail,
    });
    const children = span.children ?? [];
    const childLead = branch === "" ? lead : `${lead}${branch === "└─ " ? "   " : "│  "}`;
    children.forEach((child, index) => visit(child, childLead, index === children.length - 1 ? "└─ " : "├─ "));
  };
  visit(root, "", "");
  const labelWidth = Math.max(...rows.map((row) => row.label.length));
  const timingWidth = Math.max(...rows.map((row) => row.timing.length));
  return `${rows
    .map((row) => `${row.label.padEnd(labelWidth)}  ${row.timing.padStart(timingWidth)}  ${row.bar}  ${row.note}`.trimEnd())
    .join("\n")}\n`;
}

/** What a row says after its bar: tokens and finish reason, or the tool call id. */
function describe(span: FinishedSpan): Omit<TreeSpan, "children"> {
  const a = span.attributes;
  let detail = "";
  if (a[sc.ATTR_GEN_AI_USAGE_INPUT_TOKENS] !== undefined) {
    const cached = a[sc.ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS];
    const reasons = a[sc.ATTR_GEN_AI_RESPONSE_FINISH_REASONS];
    detail =
      `in ${String(a[sc.ATTR_GEN_AI_USAGE_INPUT_TOKENS])}${cached === undefined ? "" : ` (cached ${String(cached)})`}` +
      ` · out ${String(a[sc.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS] ?? 0)} tok` +
      (Array.isArray(reasons) ? ` · ${reasons.join(",")}` : "");
  } else if (a[sc.ATTR_GEN_AI_TOOL_CALL_ID] !== undefined) {
    detail = String(a[sc.ATTR_GEN_AI_TOOL_CALL_ID]);
  }
  const resumed = span.events?.find((event) => event.name === sc.EVENT_SKIFF_RUN_RESUMED);
  if (resumed !== undefined) detail += `${detail === "" ? "" : " · "}resumed (attempt ${String(resumed.attributes?.[sc.ATTR_SKIFF_RUN_ATTEMPT])})`;
  const errorType = a[sc.ATTR_ERROR_TYPE];
  const error = span.isError
    ? [errorType === undefined ? undefined : String(errorType), span.errorMessage].filter((part) => part).join(": ") || "error"
    : undefined;
  return { name: span.name, startMs: span.startMs, endMs: span.endMs, detail, error };
}

function ms(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(2)}s` : `${value.toFixed(1)}ms`;
}
