/**
 * Minimal Prometheus primitives (text exposition format 0.0.4): labelled counters kept as plain
 * numbers and gauges sampled at render time. Enough for /metrics without a client library. The
 * histograms are the GenAI ones, in src/telemetry/metrics.ts.
 */
import { braced, escapeLabelValue } from "../util/prometheus-text.ts";

/** A counter family; series are created on first use. */
export class Counter {
  readonly #values = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  /** Adds `by` to the series with these labels (label text from `labels()`). */
  inc(labelText = "", by = 1): void {
    this.#values.set(labelText, (this.#values.get(labelText) ?? 0) + by);
  }

  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`);
    for (const [labelText, value] of this.#values) out.push(`${this.name}${braced(labelText)} ${value}`);
  }
}

/** Renders labels as `a="x",b="y"`, escaped as the format requires. */
export function labels(values: Readonly<Record<string, string | number>>): string {
  return Object.entries(values)
    .map(([key, value]) => `${key}="${escapeLabelValue(String(value))}"`)
    .join(",");
}

/** A gauge sampled at render time. */
export function renderGauge(out: string[], name: string, help: string, value: number): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${value}`);
}
