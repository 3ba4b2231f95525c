import type { RunResult } from "../agent/index.ts";
import { Counter, labels, renderGauge } from "./prometheus.ts";

/** How a run ended, as the `outcome` label of `skiff_runs_total`. */
export type RunOutcome =
  | "completed"
  | "max_steps"
  | "budget"
  | "requires_action"
  | "timeout"
  | "cancelled"
  | "model_error"
  | "error";

/** What the service counts for GET /metrics. */
export interface ServerMetrics {
  /** Records a finished run (or what a failed run did before it stopped). */
  recordRun(outcome: RunOutcome, result: RunResult): void;
  /** Records one HTTP request by route pattern (never the raw path: ids would explode the series). */
  recordRequest(route: string, method: string, status: number): void;
  /** Prometheus text, with gauges sampled now. */
  render(gauges: { readonly runsInFlight: number; readonly draining: boolean }): string;
}

/**
 * Creates the service's own counters. Run, model and tool durations are the GenAI histograms
 * (src/telemetry/metrics.ts), recorded once per operation from the tracer port; keeping a second
 * set of histograms here cost every run the same work twice.
 */
export function createServerMetrics(): ServerMetrics {
  const runs = new Counter("skiff_runs_total", "Agent runs by how they ended.");
  const tokens = new Counter("skiff_tokens_total", "Model tokens used, by type.");
  const steps = new Counter("skiff_steps_total", "Model calls made by agent runs.");
  const requests = new Counter("skiff_http_requests_total", "HTTP requests by route, method and status.");
  const outcomeLabels = new Map<string, string>();

  return {
    recordRun(outcome, result) {
      let outcomeText = outcomeLabels.get(outcome);
      if (outcomeText === undefined) outcomeLabels.set(outcome, (outcomeText = labels({ outcome })));
      runs.inc(outcomeText);
      steps.inc("", result.steps.length);
      const usage = result.usage;
      tokens.inc('type="input"', usage.inputTokens);
      tokens.inc('type="output"', usage.outputTokens);
      tokens.inc('type="cached_input"', usage.cachedInputTokens);
      tokens.inc('type="reasoning"', usage.reasoningTokens);
    },
    recordRequest(route, method, status) {
      requests.inc(labels({ route, method, status }));
    },
    render(gauges) {
      const out: string[] = [];
      for (const family of [runs, steps, tokens, requests]) family.render(out);
      renderGauge(out, "skiff_runs_in_flight", "Agent runs in progress.", gauges.runsInFlight);
      renderGauge(out, "skiff_draining", "1 while the server is shutting down.", gauges.draining ? 1 : 0);
      const memory = process.memoryUsage();
      renderGauge(out, "process_resident_memory_bytes", "Resident memory of this process.", memory.rss);
      renderGauge(out, "skiff_js_heap_used_bytes", "Live bytes of the JavaScript heap.", memory.heapUsed);
      renderGauge(out, "skiff_js_heap_total_bytes", "Bytes the JavaScript heap holds, live or not yet collected.", memory.heapTotal);
      return `${out.join("\n")}\n`;
    },
  };
}
