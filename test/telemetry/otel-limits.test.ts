/**
 * Span limits (OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT and friends), which skiff applies itself now that
 * spans no longer pass through the SDK's Span: each limit on a real OTLP/HTTP protobuf export,
 * decoded; the same cuts and counts as the SDK's Span for the same input; and the variables read
 * as the SDK reads them.
 */
import { describe, expect, it } from "bun:test";
import { ROOT_CONTEXT, type SpanContext, SpanKind, SpanStatusCode, trace, TraceFlags } from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { ExportedSpan } from "../../src/telemetry/exported-span.ts";
import { TRUNCATION_MARKER } from "../../src/telemetry/json-fit.ts";
import { defaultSpanLimits, type SpanLimits, spanLimitsFromEnv } from "../../src/telemetry/span-limits.ts";
import { pinned, runScenario } from "./export-scenarios.ts";
import { demoRun, setup, shutDownAfterEach } from "./otel-kit.ts";
import type { DecodedSpan } from "../fakes/otlp-decode.ts";

/** A scenario's exported spans under the given limits, decoded from the protobuf bodies. */
async function exported(scenario: string, limits: Partial<SpanLimits> = {}): Promise<DecodedSpan[]> {
  return [...pinned(await runScenario(scenario, { spanLimits: { ...defaultSpanLimits, ...limits } })).spans];
}

/** The attributes that hold JSON content. */
const contentKeys = ["gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions", "gen_ai.tool.definitions", "gen_ai.tool.call.arguments", "gen_ai.tool.call.result"];

shutDownAfterEach();

describe("span limits on the OTLP export", () => {
  it("keeps the first OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT attributes of each span and counts the rest as dropped", async () => {
    const full = await exported("tools in parallel");
    const limited = await exported("tools in parallel", { attributeCountLimit: 4 });
    expect(limited.map((span) => span.name)).toEqual(full.map((span) => span.name));
    for (const [index, span] of limited.entries()) {
      const all = Object.entries(full[index]!.attributes);
      expect(all.length).toBeGreaterThan(4);
      expect(Object.entries(span.attributes)).toEqual(all.slice(0, 4));
      expect(span.droppedAttributesCount).toBe(all.length - 4);
    }
  });

  it("cuts string values, and each string of an array, to OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT characters", async () => {
    const full = await exported("tools in parallel");
    const limited = await exported("tools in parallel", { attributeValueLengthLimit: 9 });
    let cut = 0;
    for (const [index, span] of limited.entries()) {
      expect(span.droppedAttributesCount).toBe(0);
      for (const [key, value] of Object.entries(full[index]!.attributes)) {
        const expected = typeof value === "string" ? value.slice(0, 9) : Array.isArray(value) ? value.map((item) => (typeof item === "string" ? item.slice(0, 9) : item)) : value;
        if (JSON.stringify(expected) !== JSON.stringify(value)) cut++;
        expect(span.attributes[key]).toEqual(expected);
      }
    }
    // Operation names, tool names and finish reasons (`tool_calls` is in an array) were cut.
    expect(cut).toBeGreaterThan(5);
    expect(limited.find((span) => span.name === "chat m1")!.attributes["gen_ai.response.finish_reasons"]).toEqual(["tool_call"]);
  });

  it("fits content attributes within the length limit as valid JSON, and names them, instead of cutting them blindly", async () => {
    const limited = await exported("content capture", { attributeValueLengthLimit: 96 });
    const full = await exported("content capture");
    let fitted = 0;
    for (const [index, span] of limited.entries()) {
      for (const key of contentKeys) {
        const value = span.attributes[key];
        if (value === undefined) continue;
        expect(typeof value).toBe("string");
        expect(Buffer.byteLength(String(value))).toBeLessThanOrEqual(96);
        expect(() => JSON.parse(String(value))).not.toThrow();
        const cut = value !== full[index]!.attributes[key];
        // Every value that changed is named; strings cut inside it end with the marker.
        expect(((span.attributes["skiff.truncated_attributes"] ?? []) as string[]).includes(key)).toBe(cut);
        if (cut) fitted++;
      }
    }
    expect(fitted).toBeGreaterThan(3);
    expect(JSON.stringify(limited)).toContain(TRUNCATION_MARKER);
  });

  it("keeps the newest OTEL_SPAN_EVENT_COUNT_LIMIT events and counts the older ones as dropped", async () => {
    const [chat] = (await exported("retry events, usage details and cost", { eventCountLimit: 1 })).filter((span) => span.name === "chat m1");
    expect(chat!.events.map((event) => event.name)).toEqual(["bare"]);
    expect(chat!.droppedEventsCount).toBe(1);
    const [none] = (await exported("retry events, usage details and cost", { eventCountLimit: 0 })).filter((span) => span.name === "chat m1");
    expect(none!.events).toEqual([]);
    expect(none!.droppedEventsCount).toBe(2);
  });

  it("keeps the first OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT attributes of each event, cut to the length limit", async () => {
    const [chat] = (await exported("retry events, usage details and cost", { attributePerEventCountLimit: 2, attributeValueLengthLimit: 3 })).filter(
      (span) => span.name === "chat m1",
    );
    expect(chat!.events.map((event) => [event.name, event.attributes, event.droppedAttributesCount])).toEqual([
      ["retry", { attempt: 1, wait_ms: 250 }, 1],
      ["bare", {}, 0],
    ]);
    const [reasons] = (await exported("retry events, usage details and cost", { attributeValueLengthLimit: 3 })).filter((span) => span.name === "chat m1");
    expect(reasons!.events[0]!.attributes).toEqual({ attempt: 1, wait_ms: 250, reason: "mod" });
  });

  it("records no links, so OTEL_SPAN_LINK_COUNT_LIMIT has nothing to cut", async () => {
    for (const span of await exported("tools in parallel", { linkCountLimit: 0 })) expect([span.links, span.droppedLinksCount]).toEqual([0, 0]);
  });
});

describe("ExportedSpan against the SDK's Span", () => {
  const resource = resourceFromAttributes({ "service.name": "limits" });
  const attributes = { a: "alpha-beta", b: 42, c: ["one", "three"], d: true, e: "é".repeat(20), f: 1.5 };
  const events = [
    { name: "first", attributes: { x: "long value", y: 2, z: false }, time: 1_767_225_600_001.25 },
    { name: "second", attributes: undefined, time: 1_767_225_600_002.5 },
    { name: "third", attributes: { only: "one" }, time: 1_767_225_600_003 },
  ];
  const cases: Record<string, Partial<SpanLimits>> = {
    defaults: {},
    "two attributes": { attributeCountLimit: 2 },
    "no attributes": { attributeCountLimit: 0 },
    "negative attribute count": { attributeCountLimit: -1 },
    "fractional attribute count": { attributeCountLimit: 2.5 },
    "length 4": { attributeValueLengthLimit: 4 },
    "length 0 (no cut)": { attributeValueLengthLimit: 0 },
    "two events": { eventCountLimit: 2 },
    "no events": { eventCountLimit: 0 },
    "negative event count": { eventCountLimit: -1 },
    "one attribute per event": { attributePerEventCountLimit: 1, attributeValueLengthLimit: 3 },
    "no links": { linkCountLimit: 0 },
  };

  for (const [name, overrides] of Object.entries(cases)) {
    it(`cuts and counts as the SDK does: ${name}`, () => {
      const limits = { ...defaultSpanLimits, ...overrides };
      const memory = new InMemorySpanExporter();
      const provider = new BasicTracerProvider({ resource, spanLimits: limits, spanProcessors: [new SimpleSpanProcessor(memory)] });
      const sdkSpan = provider.getTracer("skiff", "1").startSpan("s", { kind: SpanKind.CLIENT, attributes, startTime: 1_767_225_600_000 }, ROOT_CONTEXT);
      for (const event of events) sdkSpan.addEvent(event.name, event.attributes, event.time);
      sdkSpan.setStatus({ code: SpanStatusCode.ERROR, message: "bad" });
      sdkSpan.end(1_767_225_600_004);
      const sdk: ReadableSpan = memory.getFinishedSpans()[0]!;
      const context: SpanContext = { ...sdk.spanContext(), traceFlags: TraceFlags.SAMPLED };
      const ours = new ExportedSpan(
        {
          name: "s",
          kind: SpanKind.CLIENT,
          context,
          parent: undefined,
          attributes: { ...attributes },
          events,
          status: { code: SpanStatusCode.ERROR, message: "bad" },
          startTime: 1_767_225_600_000,
          endTime: 1_767_225_600_004,
        },
        { resource, scope: sdk.instrumentationScope, limits, onEnd: () => {} },
      );
      const view = (span: ReadableSpan) => ({
        attributes: span.attributes,
        droppedAttributesCount: span.droppedAttributesCount,
        events: span.events,
        droppedEventsCount: span.droppedEventsCount,
        links: span.links,
        droppedLinksCount: span.droppedLinksCount,
        startTime: span.startTime,
        endTime: span.endTime,
        duration: span.duration,
        status: span.status,
        ended: span.ended,
      });
      expect(view(ours)).toEqual(view(sdk));
      expect(trace.isSpanContextValid(ours.spanContext())).toBe(true);
    });
  }
});

describe("spanLimitsFromEnv", () => {
  const names = [
    "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    "OTEL_SPAN_EVENT_COUNT_LIMIT",
    "OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT",
    "OTEL_SPAN_LINK_COUNT_LIMIT",
  ];

  /** Runs `read` with exactly these OTEL_* limit variables set in process.env, as the SDK reads them. */
  function withEnv<T>(values: Record<string, string>, read: () => T): T {
    const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
    for (const name of names) delete process.env[name];
    Object.assign(process.env, values);
    try {
      return read();
    } finally {
      for (const name of names) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    }
  }

  it("uses the SDK's defaults when nothing is set", () => {
    expect(withEnv({}, () => spanLimitsFromEnv())).toEqual(defaultSpanLimits);
    expect(defaultSpanLimits).toEqual({ attributeCountLimit: 128, attributeValueLengthLimit: Infinity, eventCountLimit: 128, attributePerEventCountLimit: 128, linkCountLimit: 128 });
  });

  it("prefers the span variable to the general one, and ignores values that are not numbers", () => {
    const limits = withEnv(
      {
        OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: "7",
        OTEL_ATTRIBUTE_COUNT_LIMIT: "9",
        OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: "100",
        OTEL_SPAN_EVENT_COUNT_LIMIT: "lots",
        OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT: " 3 ",
        OTEL_SPAN_LINK_COUNT_LIMIT: "",
      },
      () => spanLimitsFromEnv(),
    );
    expect(limits).toEqual({ attributeCountLimit: 7, attributeValueLengthLimit: 100, eventCountLimit: 128, attributePerEventCountLimit: 3, linkCountLimit: 128 });
    expect(withEnv({ OTEL_ATTRIBUTE_COUNT_LIMIT: "9", OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: "5", OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: "100" }, () => spanLimitsFromEnv())).toMatchObject({
      attributeCountLimit: 9,
      attributeValueLengthLimit: 5,
    });
  });

  it("reads the same limits the SDK's BasicTracerProvider reads from the same environment", () => {
    const env = { OTEL_ATTRIBUTE_COUNT_LIMIT: "3", OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: "4", OTEL_SPAN_EVENT_COUNT_LIMIT: "1", OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT: "2" };
    const sdk = withEnv(env, () => {
      const memory = new InMemorySpanExporter();
      const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
      const span = provider.getTracer("t").startSpan("s", { attributes: { a: "aaaaaa", b: "b", c: "c", d: "d" } }, ROOT_CONTEXT);
      span.addEvent("e1", { x: 1, y: 2, z: 3 });
      span.addEvent("e2", { x: 1, y: 2, z: 3 });
      span.end();
      return memory.getFinishedSpans()[0]!;
    });
    const limits = withEnv(env, () => spanLimitsFromEnv());
    expect(limits).toMatchObject({ attributeCountLimit: 3, attributeValueLengthLimit: 4, eventCountLimit: 1, attributePerEventCountLimit: 2 });
    expect([sdk.attributes, sdk.droppedAttributesCount, sdk.events.length, sdk.droppedEventsCount, sdk.events[0]!.droppedAttributesCount]).toEqual([
      { a: "aaaa", b: "b", c: "c" },
      1,
      1,
      1,
      1,
    ]);
  });

  it("is what startOtel applies unless told otherwise, read once when it starts", async () => {
    const { memory, tracer } = withEnv({ OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: "3" }, () => setup());
    await demoRun(tracer);
    const spans = memory.getFinishedSpans();
    expect(spans).toHaveLength(6);
    for (const span of spans) {
      expect(Object.keys(span.attributes)).toHaveLength(3);
      expect(span.droppedAttributesCount).toBeGreaterThan(0);
    }
  });
});
