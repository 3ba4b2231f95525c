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
  /**
   * Records a finished run (or what a failed run did before it stopped); runs started with a key
   * carry its name as the `key` label of the run and token series (never the key itself).
   */
  recordRun(outcome: RunOutcome, result: RunResult, keyName?: string): void;
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
  // Label texts built once per outcome (and key): a run's record then formats nothing.
  const outcomeLabels = new Map<string, string>();
  const tokenLabels = new Map<string, TokenLabels>();
  const unkeyed: TokenLabels = { input: 'type="input"', output: 'type="output"', cached: 'type="cached_input"', reasoning: 'type="reasoning"' };

  return {
    recordRun(outcome, result, keyName) {
      const cacheKey = keyName === undefined ? outcome : `${outcome}\u0000${keyName}`;
      let outcomeText = outcomeLabels.get(cacheKey);
      if (outcomeText === undefined) outcomeLabels.set(cacheKey, (outcomeText = labels(keyName === undefined ? { outcome } : { key: keyName, outcome })));
      runs.inc(outcomeText);
      steps.inc("", result.steps.length);
      let typeText = keyName === undefined ? unkeyed : tokenLabels.get(keyName);
      if (typeText === undefined) tokenLabels.set(keyName!, (typeText = keyedTokenLabels(keyName!)));
      const usage = result.usage;
      tokens.inc(typeText.input, usage.inputTokens);
      tokens.inc(typeText.output, usage.outputTokens);
      tokens.inc(typeText.cached, usage.cachedInputTokens);
      tokens.inc(typeText.reasoning, usage.reasoningTokens);
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

/** The label texts of the four token series of one key. */
interface TokenLabels {
  readonly input: string;
  readonly output: string;
  readonly cached: string;
  readonly reasoning: string;
}

function keyedTokenLabels(key: string): TokenLabels {
  return {
    input: labels({ key, type: "input" }),
    output: labels({ key, type: "output" }),
    cached: labels({ key, type: "cached_input" }),
    reasoning: labels({ key, type: "reasoning" }),
  };
}
