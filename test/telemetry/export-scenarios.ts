/**
 * Runs in which every exported byte is determined: ids come from a seeded Math.random (which the
 * SDK's RandomIdGenerator draws from) and time from a clock that moves only when a scripted
 * model or tool says so. Each scenario exports over real OTLP/HTTP protobuf to a receiver on
 * 127.0.0.1 that keeps the request bodies as sent, and records the `--trace` tree and the
 * traceparents the tools saw. Used to pin the export (otel-export.test.ts) and to compare two
 * versions of the telemetry code byte for byte.
 *
 * After an intended change to what is exported, rewrite the pinned fixture with
 *   bun test/telemetry/export-scenarios.ts --write
 */
import { join } from "node:path";
import { z } from "zod";
import { RunCancelledError, RunModelError, runAgent, type RunOptions } from "../../src/agent/index.ts";
import { ModelError } from "../../src/errors.ts";
import { emptyUsage, type Message, type ToolCall } from "../../src/model/messages.ts";
import type { Model, ModelResponse } from "../../src/model/model.ts";
import { buildInfo } from "../../src/build-info.ts";
import { startOtel } from "../../src/telemetry/otel-setup.ts";
import type { OtelSettings } from "../../src/telemetry/otel-settings.ts";
import { defineTool } from "../../src/tools/define-tool.ts";
import { type Tool, ToolFailure } from "../../src/tools/tool.ts";
import type { Tracer } from "../../src/telemetry/tracer.ts";
import { defaultSpanLimits, type SpanLimits } from "../../src/telemetry/span-limits.ts";
import { type DecodedSpan, decodeRequest } from "../fakes/otlp-decode.ts";
import { seeded } from "../helpers/seeded-random.ts";
import { captureOtlp } from "./otlp-capture.ts";
import { testOtelSettings } from "./otel-settings-fixture.ts";

/** What one scenario produced. */
export interface ScenarioOutput {
  /** Each OTLP request body, base64. */
  readonly bodies: readonly string[];
  /** Everything `--trace` printed. */
  readonly tree: string;
  /** The traceparent each tool call was given, in call order. */
  readonly traceparents: readonly (string | undefined)[];
  /** What each run returned as its trace id (`error` when it threw). */
  readonly traceIds: readonly string[];
}

/** A clock that moves only when told to: `performance.now` and `Date.now` read it. */
class ScriptedClock {
  wall = 1_767_225_600_000; // 2026-01-01T00:00:00Z
  mono = 1_000;

  tick(ms: number): void {
    this.wall += ms;
    this.mono += ms;
  }
}

/** One scripted model reply; `events` are recorded on its chat span between start and end. */
interface Reply {
  readonly tick: number;
  /** Streams only: ms after the start when the first chunk arrives (then the rest of `tick`). */
  readonly firstChunk?: number;
  readonly toolCalls?: readonly ToolCall[];
  readonly text?: string;
  readonly fail?: ModelError;
  readonly events?: readonly { readonly name: string; readonly attributes?: Record<string, string | number | boolean> }[];
  readonly usage?: Partial<ModelResponse["usage"]>;
}

function clockModel(clock: ScriptedClock, script: readonly Reply[], options: { stream?: boolean; server?: boolean } = {}): Model {
  let calls = 0;
  return {
    name: "m1",
    provider: "openai",
    async complete(request) {
      const reply = script[calls++];
      if (!reply) throw new Error(`no reply scripted for call ${calls}`);
      const span = request.spans?.startChat({
        model: "m1",
        provider: "openai",
        ...(options.server ? { serverAddress: "127.0.0.1", serverPort: 8080 } : {}),
        stream: options.stream ?? false,
        attempt: 1,
        messages: request.messages,
        tools: request.tools,
      });
      for (const event of reply.events ?? []) {
        clock.tick(0.5);
        span?.event(event.name, event.attributes);
      }
      if (reply.firstChunk !== undefined) {
        clock.tick(reply.firstChunk);
        span?.firstChunk?.();
      }
      clock.tick(reply.tick - (reply.firstChunk ?? 0));
      if (reply.fail) {
        span?.fail(reply.fail);
        throw reply.fail;
      }
      const response: ModelResponse = {
        message: reply.toolCalls ? { role: "assistant", content: null, tool_calls: reply.toolCalls } : { role: "assistant", content: reply.text ?? "" },
        usage: { ...emptyUsage, inputTokens: 40 + calls, outputTokens: 7 * calls, ...reply.usage },
        finishReason: reply.toolCalls ? "tool_calls" : "stop",
        id: `resp-${calls}`,
        model: "m1-2026",
        provider: "openai",
      };
      span?.end(response);
      return response;
    },
  };
}

/** Tools whose results and durations are fixed: `add`, `echo`, `broken` and `hang`. */
function clockTools(clock: ScriptedClock, seen: (string | undefined)[], onHang: () => void): Tool[] {
  return [
    defineTool({
      name: "add",
      description: "Adds two numbers",
      input: z.object({ a: z.number(), b: z.number() }),
      run: async ({ a, b }, context) => {
        seen.push(context.traceparent);
        // Ends after the other calls of its step (a later turn of the event loop per 10 of `a`),
        // so the calls of one step end at different times.
        for (let turn = 0; turn <= a / 10; turn++) await Bun.sleep(0);
        clock.tick(2.25);
        return { sum: a + b };
      },
    }),
    defineTool({
      name: "echo",
      description: "",
      input: z.object({ text: z.string() }),
      run: async ({ text }, context) => {
        seen.push(context.traceparent);
        clock.tick(1.5);
        return text;
      },
    }),
    defineTool({
      name: "broken",
      description: "Always fails",
      input: z.object({}),
      run: async (_, context) => {
        seen.push(context.traceparent);
        clock.tick(0.75);
        throw new ToolFailure("broken on purpose");
      },
    }),
    defineTool({
      name: "hang",
      description: "Never answers",
      input: z.object({}),
      run: (_, context) => {
        seen.push(context.traceparent);
        clock.tick(3);
        queueMicrotask(onHang);
        return new Promise(() => {});
      },
    }),
  ];
}

function call(id: string, name: string, args: unknown): ToolCall {
  return { id, name, arguments: JSON.stringify(args) };
}

const toolStep: Reply = { tick: 4, toolCalls: [call("c1", "add", { a: 17, b: 23 }), call("c2", "echo", { text: "hi" }), call("c3", "add", { a: 1, b: 2 })] };
const answer: Reply = { tick: 3, text: "40 and 3; hi" };
const question: Message[] = [
  { role: "system", content: "You add." },
  { role: "user", content: "What is 17+23 and 1+2?" },
];

/** One scenario: settings, and the runs to make with a clock, tools and a run function. */
interface Scenario {
  readonly settings?: Partial<OtelSettings>;
  /** The configured system prompt (else none: every system message is conversation). */
  readonly systemPrompt?: string;
  readonly runs: (context: {
    clock: ScriptedClock;
    tools: Tool[];
    run: (model: Model, extra?: Partial<RunOptions>) => Promise<void>;
    controller: AbortController;
    tracer: Tracer;
  }) => Promise<void>;
}

/** A `skiff serve` request span around one run, as the server opens it (server/request-span.ts). */
async function underRequest(context: { clock: ScriptedClock; tracer: Tracer; run: (model: Model, extra?: Partial<RunOptions>) => Promise<void> }, model: Model, caller?: string) {
  const site = { scheme: "http", serverAddress: "127.0.0.1", serverPort: 8080, userAgent: "scenario/1" };
  const request = context.tracer.startRequest!({ method: "POST", route: "/v1/runs", path: "/v1/runs", ...site, ...(caller ? { traceparent: caller } : {}) });
  context.clock.tick(0.25);
  await context.run(model, { traceparent: request.traceparent!, conversationId: "session-9" });
  context.clock.tick(0.5);
  request.end(200);
}

const scenarios: Record<string, Scenario> = {
  "tools in parallel": { runs: ({ clock, run }) => run(clockModel(clock, [toolStep, answer], { server: true })) },
  "content capture": {
    settings: { captureContent: true },
    systemPrompt: "You add.",
    runs: ({ clock, run }) => run(clockModel(clock, [{ ...toolStep, firstChunk: 1.5 }, { ...answer, firstChunk: 0.75 }], { stream: true }), { conversationId: "session-7" }),
  },
  "client system message": {
    settings: { captureContent: true },
    systemPrompt: "You add.",
    runs: ({ clock, run }) =>
      run(clockModel(clock, [answer]), { messages: [question[0]!, { role: "system", content: "Answer briefly." }, question[1]!] }),
  },
  openinference: {
    settings: { captureContent: true, openInference: true },
    systemPrompt: "You add.",
    runs: ({ clock, run }) => run(clockModel(clock, [toolStep, answer]), { conversationId: "session-8" }),
  },
  "max attribute bytes": {
    settings: { captureContent: true, openInference: true, maxAttributeBytes: 256 },
    runs: ({ clock, run }) =>
      run(clockModel(clock, [{ tick: 2, toolCalls: [call("c1", "echo", { text: "é".repeat(300) })] }, { tick: 1, text: "a".repeat(400) }]), {
        messages: [{ role: "user", content: `${"long question ".repeat(40)}?` }],
      }),
  },
  "stream broken off": {
    runs: ({ clock, run }) =>
      run(
        clockModel(clock, [{ tick: 4, firstChunk: 1, fail: new ModelError("the stream broke off", { retryable: false, code: "model_stream_cut" }) }], {
          stream: true,
        }),
      ),
  },
  "request span": { settings: { captureContent: true }, runs: (context) => underRequest(context, clockModel(context.clock, [toolStep, answer])) },
  "request span under a caller": {
    runs: (context) => underRequest(context, clockModel(context.clock, [answer]), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
  },
  "tool errors": {
    runs: ({ clock, run }) =>
      run(clockModel(clock, [{ tick: 2, toolCalls: [call("c1", "broken", {}), call("c2", "nope", {}), call("c3", "add", { a: "x" })] }, answer])),
  },
  "model failure": {
    runs: ({ clock, run }) =>
      run(clockModel(clock, [toolStep, { tick: 6, fail: new ModelError("chat request failed: HTTP 503", { status: 503, retryable: true, code: "model_http_503" }) }])),
  },
  "cancelled with a tool open": {
    runs: ({ clock, run, controller }) =>
      run(clockModel(clock, [{ tick: 2, toolCalls: [call("c1", "hang", {}), call("c2", "echo", { text: "x" })] }]), { signal: controller.signal }),
  },
  "retry events, usage details and cost": {
    settings: { captureContent: true },
    systemPrompt: "You add.",
    runs: ({ clock, run }) =>
      run(
        clockModel(clock, [
          {
            tick: 5,
            text: "done",
            usage: { cachedInputTokens: 12, cacheWriteInputTokens: 5, reasoningTokens: 3 },
            events: [{ name: "retry", attributes: { attempt: 1, wait_ms: 250, reason: "model_http_429" } }, { name: "bare" }],
          },
        ]),
        { price: () => 0.0125 },
      ),
  },
  "sampled caller": {
    runs: ({ clock, run }) => run(clockModel(clock, [toolStep, answer]), { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" }),
  },
  "unsampled caller": {
    runs: ({ clock, run }) => run(clockModel(clock, [toolStep, answer]), { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00" }),
  },
  "always_off": { settings: { sampler: "always_off" }, runs: ({ clock, run }) => run(clockModel(clock, [toolStep, answer])) },
  "ratio sampler": {
    settings: { sampler: "traceidratio", samplerRatio: 0.5 },
    runs: async ({ clock, run }) => {
      for (let i = 0; i < 8; i++) await run(clockModel(clock, [toolStep, answer]));
    },
  },
};

/** The names of the scenarios, in a fixed order. */
export const scenarioNames: readonly string[] = Object.keys(scenarios);

/**
 * Runs one scenario and returns what it exported, with the span limits given (else the SDK's
 * defaults). Math.random, performance.now and Date.now are replaced only while the runs execute
 * and restored before the export is flushed.
 */
export async function runScenario(name: string, options: { readonly spanLimits?: SpanLimits } = {}): Promise<ScenarioOutput> {
  const scenario = scenarios[name];
  if (!scenario) throw new Error(`unknown scenario ${name}; known: ${scenarioNames.join(", ")}`);
  const receiver = captureOtlp();
  let tree = "";
  const settings = testOtelSettings({
    tracesUrl: receiver.tracesUrl,
    resource: { "service.name": "skiff-scenario", "deployment.environment.name": "test" },
    flushTimeoutMs: 5_000,
    exportTimeoutMs: 5_000,
    ...scenario.settings,
  });
  const otel = startOtel({
    settings,
    warn: () => {},
    treeWriter: (text) => void (tree += text),
    spanLimits: options.spanLimits ?? defaultSpanLimits,
    ...(scenario.systemPrompt === undefined ? {} : { systemPrompt: scenario.systemPrompt }),
  });
  const clock = new ScriptedClock();
  const traceparents: (string | undefined)[] = [];
  const traceIds: string[] = [];
  const controller = new AbortController();
  const tools = clockTools(clock, traceparents, () => controller.abort(new Error("stop")));
  const saved = { random: Math.random, now: performance.now, dateNow: Date.now };
  // Stands in for Math.random while ids are drawn.
  Math.random = seeded(0x5eed);
  performance.now = () => clock.mono;
  Date.now = () => clock.wall;
  try {
    await scenario.runs({
      clock,
      tools,
      controller,
      tracer: otel.tracer,
      run: async (model, extra = {}) => {
        try {
          const result = await runAgent({ model, tools, messages: question, limits: { maxSteps: 4, toolTimeoutMs: 60_000, toolOutputLimit: 65_536 }, tracer: otel.tracer, ...extra });
          traceIds.push(result.traceId ?? "none");
        } catch (error) {
          if (!(error instanceof RunModelError || error instanceof RunCancelledError)) throw error;
          traceIds.push(`error ${error.constructor.name}`);
        }
      },
    });
  } finally {
    Math.random = saved.random;
    performance.now = saved.now;
    Date.now = saved.dateNow;
  }
  await otel.shutdown();
  await receiver.stop();
  return { bodies: receiver.bodies.map((body) => Buffer.from(body).toString("base64")), tree, traceparents, traceIds };
}

/** A scenario's output as pinned: decoded spans (scope version as `<version>`), tree lines, traceparents, trace ids. */
export interface PinnedScenario {
  readonly spans: readonly DecodedSpan[];
  readonly tree: readonly string[];
  readonly traceparents: readonly (string | null)[];
  readonly traceIds: readonly string[];
}

/** The pinned form of an output: every exported field, with the release version left out. */
export function pinned(output: ScenarioOutput): PinnedScenario {
  const spans = output.bodies.flatMap((body) => decodeRequest(Buffer.from(body, "base64")));
  return {
    spans: spans.map((span) => (span.scope.version === buildInfo.version ? { ...span, scope: { ...span.scope, version: "<version>" } } : span)),
    tree: output.tree.split("\n"),
    traceparents: output.traceparents.map((traceparent) => traceparent ?? null),
    traceIds: output.traceIds,
  };
}

/** Where the pinned outputs live. */
export const fixturePath = join(import.meta.dir, "fixtures", "otlp-export.json");

/** One span per line, so a change shows up in review as the spans it touches. */
export function fixtureText(scenarios: Readonly<Record<string, PinnedScenario>>): string {
  const blocks = Object.entries(scenarios).map(([name, scenario]) => {
    const spans = scenario.spans.map((span) => `      ${JSON.stringify(span)}`).join(",\n");
    return [
      `  ${JSON.stringify(name)}: {`,
      `    "spans": [\n${spans}\n    ],`,
      `    "tree": ${JSON.stringify(scenario.tree)},`,
      `    "traceparents": ${JSON.stringify(scenario.traceparents)},`,
      `    "traceIds": ${JSON.stringify(scenario.traceIds)}`,
      "  }",
    ].join("\n");
  });
  return `{\n${blocks.join(",\n")}\n}\n`;
}

if (import.meta.main && process.argv.includes("--write")) {
  const all: Record<string, PinnedScenario> = {};
  for (const name of scenarioNames) all[name] = pinned(await runScenario(name));
  await Bun.write(fixturePath, fixtureText(all));
  console.log(`wrote ${fixturePath}`);
}
