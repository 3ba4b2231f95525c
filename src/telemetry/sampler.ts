/**
 * Sampling: the sampler `otel.sampler` / `otel.sampler_arg` (OTEL_TRACES_SAMPLER(_ARG)) names, built
 * from the SDK's samplers, and the one decision each run gets, asked through the public
 * `Sampler.shouldSample` with the caller's span context as parent, so the parent-based samplers
 * follow a caller's sampled flag.
 */
import { type Attributes, type Context, ROOT_CONTEXT, type SpanContext, SpanKind, trace } from "@opentelemetry/api";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  type Sampler,
  SamplingDecision,
  type SamplingResult,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-base";
import type { OtelSettings } from "./otel-settings.ts";

/**
 * The sampler the settings name. With `--trace` (`recordAll`), runs a sampler drops are still
 * recorded, not sampled: the tree shows every run while export keeps to the sampler, because the
 * export processor (batch-export.ts) exports only sampled spans.
 */
export function buildSampler(settings: Pick<OtelSettings, "sampler" | "samplerRatio">, recordAll: boolean): Sampler {
  const ratio = new TraceIdRatioBasedSampler(settings.samplerRatio);
  const samplers: Record<OtelSettings["sampler"], Sampler> = {
    always_on: new AlwaysOnSampler(),
    always_off: new AlwaysOffSampler(),
    traceidratio: ratio,
    parentbased_always_on: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    parentbased_always_off: new ParentBasedSampler({ root: new AlwaysOffSampler() }),
    parentbased_traceidratio: new ParentBasedSampler({ root: ratio }),
  };
  const sampler = samplers[settings.sampler];
  if (!recordAll) return sampler;
  return {
    shouldSample(...args) {
      const result = sampler.shouldSample(...args);
      return result.decision === SamplingDecision.NOT_RECORD ? { ...result, decision: SamplingDecision.RECORD } : result;
    },
    toString: () => `RecordAll{${sampler.toString()}}`,
  };
}

/**
 * The decision for a run's agent span (or a request's SERVER span, `kind`), asked once when it
 * starts; every span of the run follows it, as parent-based samplers make children do. A plain
 * decision comes back as one shared object, so in-flight runs do not each hold a copy.
 */
export function sampleRun(
  sampler: Sampler,
  traceId: string,
  parent: SpanContext | undefined,
  name: string,
  attributes: Attributes,
  kind: SpanKind = SpanKind.INTERNAL,
): SamplingResult {
  const context: Context = parent === undefined ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, parent);
  const result = sampler.shouldSample(context, traceId, name, kind, attributes, []);
  return result.attributes === undefined && result.traceState === undefined ? (plainResults[result.decision] ?? result) : result;
}

const plainResults: Readonly<Record<SamplingDecision, SamplingResult>> = {
  [SamplingDecision.NOT_RECORD]: Object.freeze({ decision: SamplingDecision.NOT_RECORD }),
  [SamplingDecision.RECORD]: Object.freeze({ decision: SamplingDecision.RECORD }),
  [SamplingDecision.RECORD_AND_SAMPLED]: Object.freeze({ decision: SamplingDecision.RECORD_AND_SAMPLED }),
};
