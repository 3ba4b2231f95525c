/**
 * In-process GenAI metrics: histograms with the bucket boundaries the conventions advise, kept as
 * plain counters and rendered as Prometheus text for `GET /metrics`. A small recorder instead of
 * @opentelemetry/sdk-metrics: the service only needs a pull endpoint, and this costs a few array
 * increments per observation.
 */
import * as sc from "./semconv.ts";

/** Attribute values of one series; undefined values are left out. */
export type MetricAttributes = Readonly<Record<string, string | number | undefined>>;

/** The histograms skiff records. */
export type HistogramName =
  | typeof sc.METRIC_GEN_AI_CLIENT_OPERATION_DURATION
  | typeof sc.METRIC_GEN_AI_CLIENT_TOKEN_USAGE
  | typeof sc.METRIC_GEN_AI_INVOKE_AGENT_DURATION
  | typeof sc.METRIC_GEN_AI_EXECUTE_TOOL_DURATION;

interface HistogramSpec {
  readonly unit: "s" | "{token}";
  readonly help: string;
  readonly buckets: readonly number[];
}

const specs: Readonly<Record<HistogramName, HistogramSpec>> = {
  [sc.METRIC_GEN_AI_CLIENT_OPERATION_DURATION]: {
    unit: "s",
    help: "GenAI operation duration (one model request).",
    buckets: sc.BUCKETS_OPERATION_DURATION_S,
  },
  [sc.METRIC_GEN_AI_CLIENT_TOKEN_USAGE]: {
    unit: "{token}",
    help: "Number of input and output tokens used per model request.",
    buckets: sc.BUCKETS_TOKEN_USAGE,
  },
  [sc.METRIC_GEN_AI_INVOKE_AGENT_DURATION]: {
    unit: "s",
    help: "Duration of one agent run.",
    buckets: sc.BUCKETS_INVOKE_AGENT_DURATION_S,
  },
  [sc.METRIC_GEN_AI_EXECUTE_TOOL_DURATION]: {
    unit: "s",
    help: "Duration of one tool call.",
    buckets: sc.BUCKETS_OPERATION_DURATION_S,
  },
};

interface Series {
  readonly labels: string;
  /** Non-cumulative count per bucket, plus one for +Inf. */
  readonly counts: number[];
  sum: number;
  count: number;
}

/** Records GenAI histograms and renders them for Prometheus. */
export interface GenAiMetrics {
  record(name: HistogramName, value: number, attributes: MetricAttributes): void;
  /** Prometheus text exposition format 0.0.4, histograms only. */
  renderPrometheus(): string;
}

/** Creates an empty recorder. */
export function createGenAiMetrics(): GenAiMetrics {
  const series = new Map<HistogramName, Map<string, Series>>();
  return {
    record(name, value, attributes) {
      if (!Number.isFinite(value) || value < 0) return;
      const { buckets } = specs[name];
      let byLabels = series.get(name);
      if (!byLabels) series.set(name, (byLabels = new Map()));
      const labels = labelText(attributes);
      let entry = byLabels.get(labels);
      if (!entry) byLabels.set(labels, (entry = { labels, counts: new Array<number>(buckets.length + 1).fill(0), sum: 0, count: 0 }));
      let index = buckets.findIndex((bound) => value <= bound);
      if (index === -1) index = buckets.length;
      entry.counts[index]!++;
      entry.sum += value;
      entry.count++;
    },
    renderPrometheus() {
      const lines: string[] = [];
      for (const [name, byLabels] of series) {
        const spec = specs[name];
        const metric = prometheusName(name, spec.unit);
        lines.push(`# HELP ${metric} ${spec.help}`, `# TYPE ${metric} histogram`);
        for (const entry of byLabels.values()) {
          let cumulative = 0;
          spec.buckets.forEach((bound, index) => {
            cumulative += entry.counts[index]!;
            lines.push(`${metric}_bucket{${join(entry.labels, `le="${bound}"`)}} ${cumulative}`);
          });
          lines.push(`${metric}_bucket{${join(entry.labels, 'le="+Inf"')}} ${entry.count}`);
          lines.push(`${metric}_sum${entry.labels ? `{${entry.labels}}` : ""} ${entry.sum}`);
          lines.push(`${metric}_count${entry.labels ? `{${entry.labels}}` : ""} ${entry.count}`);
        }
      }
      return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
    },
  };
}

/** OTel → Prometheus naming: dots become underscores, seconds get `_seconds`, `{…}` units are dropped. */
function prometheusName(name: string, unit: HistogramSpec["unit"]): string {
  const base = name.replace(/[^a-zA-Z0-9_]/g, "_");
  return unit === "s" ? `${base}_seconds` : base;
}

function labelText(attributes: MetricAttributes): string {
  return Object.keys(attributes)
    .filter((key) => attributes[key] !== undefined)
    .sort()
    .map((key) => `${key.replace(/[^a-zA-Z0-9_]/g, "_")}="${escapeLabel(String(attributes[key]))}"`)
    .join(",");
}

function join(labels: string, extra: string): string {
  return labels ? `${labels},${extra}` : extra;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
