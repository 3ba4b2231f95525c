/**
 * Minimal Prometheus primitives (text exposition format 0.0.4): labelled counters and histograms
 * kept as plain numbers. Enough for /metrics without a client library; an observation is a few
 * array writes.
 */

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
    for (const [labelText, value] of this.#values) out.push(`${this.name}${wrap(labelText)} ${value}`);
  }
}

interface HistogramSeries {
  readonly counts: number[];
  sum: number;
  count: number;
}

/** A histogram family with fixed bucket bounds (in the metric's unit). */
export class Histogram {
  readonly #series = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {}

  observe(value: number, labelText = ""): void {
    if (!Number.isFinite(value) || value < 0) return;
    let series = this.#series.get(labelText);
    if (!series) this.#series.set(labelText, (series = { counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 }));
    const index = this.buckets.findIndex((bound) => value <= bound);
    if (index !== -1) series.counts[index]!++;
    series.sum += value;
    series.count++;
  }

  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`);
    for (const [labelText, series] of this.#series) {
      let cumulative = 0;
      this.buckets.forEach((bound, index) => {
        cumulative += series.counts[index]!;
        out.push(`${this.name}_bucket{${join(labelText, `le="${bound}"`)}} ${cumulative}`);
      });
      out.push(`${this.name}_bucket{${join(labelText, 'le="+Inf"')}} ${series.count}`);
      out.push(`${this.name}_sum${wrap(labelText)} ${series.sum}`);
      out.push(`${this.name}_count${wrap(labelText)} ${series.count}`);
    }
  }
}

/** Renders labels as `a="x",b="y"`, escaped as the format requires. */
export function labels(values: Readonly<Record<string, string | number>>): string {
  return Object.entries(values)
    .map(([key, value]) => `${key}="${String(value).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`)
    .join(",");
}

/** A gauge sampled at render time. */
export function renderGauge(out: string[], name: string, help: string, value: number): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${value}`);
}

function wrap(labelText: string): string {
  return labelText ? `{${labelText}}` : "";
}

function join(labelText: string, extra: string): string {
  return labelText ? `${labelText},${extra}` : extra;
}
