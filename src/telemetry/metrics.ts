/**
 * In-process GenAI metrics: histograms with the bucket boundaries the conventions advise, kept as
 * plain counters and rendered as Prometheus text for `GET /metrics`. A small recorder instead of
 * @opentelemetry/sdk-metrics: the service only needs a pull endpoint, and this costs a few array
 * increments per observation.
 */
import { braced, escapeLabelValue, withLabel } from "../util/prometheus-text.ts";
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
  /** Prometheus label text, built once when the series is created. */
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

/**
 * Series per histogram before new attribute sets fold into one overflow series, as the OTel
 * metrics SDK does (its default limit, and its `otel.metric.overflow` attribute): a model that
 * invents tool names must not grow memory and /metrics without bound.
 */
export const seriesLimit = 2000;

const overflowLabels = 'otel_metric_overflow="true"';

/**
 * One histogram's series. An observation walks a small tree keyed by the attribute names and
 * values as given, which allocates nothing and hashes only strings it has seen before: the label
 * text (sorted, escaped) is built only when a series is first seen. Hot path: 10,000 concurrent
 * runs record ten observations each (building a key string per observation cost 2–3 % of the
 * service's main thread in B2 and B4; bench/README.md).
 */
class HistogramSeries {
  /** By attribute name, then value, in the caller's order; `series` at the node of the last one. */
  private readonly root: KeyNode = { next: new Map(), series: undefined };
  /** Attribute sets remembered in the tree, bounded like the series themselves. */
  private remembered = 0;
  /** By label text, so the same attributes given in another order share one series. */
  private readonly byLabels = new Map<string, Series>();

  constructor(private readonly buckets: readonly number[]) {}

  record(value: number, attributes: MetricAttributes): void {
    let node: KeyNode | undefined = this.root;
    for (const name in attributes) {
      const attribute = attributes[name];
      if (attribute === undefined) continue;
      node = node.next.get(name)?.next.get(attribute);
      if (node === undefined) break;
    }
    const entry = node?.series ?? this.add(attributes);
    const buckets = this.buckets;
    let index = 0;
    while (index < buckets.length && value > buckets[index]!) index++;
    entry.counts[index]!++;
    entry.sum += value;
    entry.count++;
  }

  series(): IterableIterator<Series> {
    return this.byLabels.values();
  }

  private add(attributes: MetricAttributes): Series {
    let labels = labelText(attributes);
    if (!this.byLabels.has(labels) && this.byLabels.size >= seriesLimit) labels = overflowLabels;
    let entry = this.byLabels.get(labels);
    if (!entry) this.byLabels.set(labels, (entry = { labels, counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0 }));
    // Overflowing attribute sets are not remembered either: the tree must stay bounded too.
    if (labels !== overflowLabels || this.remembered < seriesLimit * 2) this.remember(attributes, entry);
    return entry;
  }

  private remember(attributes: MetricAttributes, entry: Series): void {
    let node = this.root;
    for (const name in attributes) {
      const attribute = attributes[name];
      if (attribute === undefined) continue;
      let byValue = node.next.get(name);
      if (!byValue) node.next.set(name, (byValue = { next: new Map(), series: undefined }));
      let next = byValue.next.get(attribute);
      if (!next) byValue.next.set(attribute, (next = { next: new Map(), series: undefined }));
      node = next;
    }
    if (node.series === undefined) this.remembered++;
    node.series = entry;
  }
}

/** A step of HistogramSeries' tree: an attribute name (next: by value) or value (next: by name). */
interface KeyNode {
  readonly next: Map<string | number, KeyNode>;
  series: Series | undefined;
}

/** Creates an empty recorder. */
export function createGenAiMetrics(): GenAiMetrics {
  const histograms = new Map<HistogramName, HistogramSeries>();
  return {
    record(name, value, attributes) {
      if (!Number.isFinite(value) || value < 0) return;
      let histogram = histograms.get(name);
      if (!histogram) histograms.set(name, (histogram = new HistogramSeries(specs[name].buckets)));
      histogram.record(value, attributes);
    },
    renderPrometheus() {
      const lines: string[] = [];
      for (const [name, histogram] of histograms) {
        const spec = specs[name];
        const metric = prometheusName(name, spec.unit);
        lines.push(`# HELP ${metric} ${spec.help}`, `# TYPE ${metric} histogram`);
        for (const entry of histogram.series()) {
          let cumulative = 0;
          spec.buckets.forEach((bound, index) => {
            cumulative += entry.counts[index]!;
            lines.push(`${metric}_bucket{${withLabel(entry.labels, `le="${bound}"`)}} ${cumulative}`);
          });
          lines.push(`${metric}_bucket{${withLabel(entry.labels, 'le="+Inf"')}} ${entry.count}`);
          lines.push(`${metric}_sum${braced(entry.labels)} ${entry.sum}`);
          lines.push(`${metric}_count${braced(entry.labels)} ${entry.count}`);
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
    .map((key) => `${key.replace(/[^a-zA-Z0-9_]/g, "_")}="${escapeLabelValue(String(attributes[key]))}"`)
    .join(",");
}

