/**
 * The console's client logic without a browser: the event-stream decoder, the API client against
 * real HTTP servers on 127.0.0.1 (the app itself, and one that breaks its streams on purpose), the
 * span tree and the formatting. The DOM views are driven in Chromium by test/e2e/console.test.ts.
 */
import { afterEach, describe, expect, it } from "bun:test";
import type { Server } from "bun";
import { Api, ApiError } from "../../src/server/console/client/api.ts";
import { formatCost, formatDuration, formatTokens, prettyJson } from "../../src/server/console/client/format.ts";
import { runSpanTreeText } from "../../src/server/console/client/span-tree.ts";
import { type SseEvent, SseDecoder } from "../../src/server/console/client/sse.ts";
import type { RunJson } from "../../src/server/console/client/types.ts";
import { testApp, token } from "./helpers.ts";

const servers: Server<undefined>[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop(true)));
});

function serve(fetch: (req: Request) => Response | Promise<Response>): string {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch });
  servers.push(server);
  return `http://127.0.0.1:${server.port}/`;
}

describe("SseDecoder", () => {
  const stream = ": keep-alive\n\nid: 1\nevent: run.started\ndata: {\"a\":1}\n\nid: 2\r\nevent: model.delta\r\ndata: line one\r\ndata:  two\r\n\r\nid: 3\rdata\r\r\n";
  const expected: SseEvent[] = [
    { event: "run.started", data: '{"a":1}', id: "1" },
    { event: "model.delta", data: "line one\n two", id: "2" },
    { event: "message", data: "", id: "3" },
  ];

  it("decodes LF, CRLF and CR lines, comments, repeated data lines and default event names", () => {
    expect(new SseDecoder().push(stream)).toEqual(expected);
  });

  it("gives the same events whatever the pieces the text arrives in", () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const decoder = new SseDecoder();
      expect([...decoder.push(stream.slice(0, cut)), ...decoder.push(stream.slice(cut))]).toEqual(expected);
    }
    const decoder = new SseDecoder();
    expect([...stream].flatMap((c) => decoder.push(c))).toEqual(expected);
  });

  it("takes an id as the last event ID only once its event is complete, and forgets half an event", () => {
    const decoder = new SseDecoder();
    expect(decoder.push("id: 7\ndata: x\n\nid: 8\ndata: half")).toEqual([{ event: "message", data: "x", id: "7" }]);
    expect(decoder.lastEventId).toBe("7");
    decoder.discardPending();
    expect(decoder.push("\n\nid: 8\ndata: whole\n\n")).toEqual([{ event: "message", data: "whole", id: "8" }]);
    expect(decoder.lastEventId).toBe("8");
  });
});

describe("Api", () => {
  it("sends the bearer token, and turns a refusal into an ApiError with the API's message", async () => {
    const { app } = testApp();
    const base = serve((req) => app.fetch(req));
    let current: string | undefined = token;
    const refused: ApiError[] = [];
    const api = new Api({ base, token: () => current, onUnauthorized: (error) => refused.push(error) });
    const { tools } = await api.get<{ tools: { name: string }[] }>("v1/tools");
    expect(tools.map((tool) => tool.name)).toEqual(["time", "calc"]);

    current = "wrong-token-0123456789";
    const error = await api.get("v1/tools").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 401, type: "authentication_error", message: expect.stringContaining("the bearer token is not valid") });
    expect(refused).toHaveLength(1);
    current = token;
    expect(await api.get("v1/runs/run_nope").catch((e: unknown) => e)).toMatchObject({ status: 404, type: "not_found_error" });
  });

  it("streams a run's events from POST /v1/runs with stream: true", async () => {
    const { app } = testApp();
    const api = new Api({ base: serve((req) => app.fetch(req)), token: () => token });
    const events: SseEvent[] = [];
    for await (const event of api.postStream("v1/runs", { input: "what is 6*7?", stream: true })) events.push(event);
    expect(events.map((event) => event.event)).toEqual([
      "run.started",
      "step.started",
      "tool.started",
      "tool.finished",
      "step.started",
      ...events.filter((event) => event.event === "model.delta").map(() => "model.delta"),
      "run.completed",
    ]);
    expect((JSON.parse(events.at(-1)!.data) as { output: string }).output).toBe("6*7 = 42.");
  });

  it("follows a run's events across broken connections, resuming after the last whole event, each event once", async () => {
    const seenLastIds: (string | null)[] = [];
    const base = serve((req) => {
      seenLastIds.push(req.headers.get("last-event-id"));
      const body =
        seenLastIds.length === 1
          ? // Two events, then half of the third, then the connection ends.
            "id: 1\nevent: run.started\ndata: {}\n\nid: 2\nevent: step.started\ndata: {\"step\":1}\n\nid: 3\nevent: model.comp"
          : "id: 3\nevent: model.completed\ndata: {\"step\":1}\n\nid: 4\nevent: run.completed\ndata: {\"output\":\"done\"}\n\n";
      return new Response(body, { headers: { "content-type": "text/event-stream" } });
    });
    const api = new Api({ base, token: () => undefined });
    const events: string[] = [];
    const ended = await api.followRun("run_1", (event) => events.push(`${event.id} ${event.event}`), { signal: new AbortController().signal, retryMs: 1 });
    expect(ended).toBe("finished");
    expect(events).toEqual(["1 run.started", "2 step.started", "3 model.completed", "4 run.completed"]);
    expect(seenLastIds).toEqual([null, "2"]);
  });

  it("gives up after maxRetries broken connections in a row, stops when aborted, and does not retry a 404", async () => {
    let connections = 0;
    const base = serve(() => (connections++, new Response(": nothing\n\n", { headers: { "content-type": "text/event-stream" } })));
    const api = new Api({ base, token: () => undefined });
    expect(await api.followRun("run_1", () => {}, { signal: new AbortController().signal, retryMs: 1, maxRetries: 3 })).toBe("gave_up");
    expect(connections).toBe(4);

    const stop = new AbortController();
    stop.abort();
    expect(await api.followRun("run_1", () => {}, { signal: stop.signal })).toBe("aborted");

    const { app } = testApp({ authToken: null });
    const real = new Api({ base: serve((req) => app.fetch(req)), token: () => undefined });
    expect(await real.followRun("run_missing", () => {}, { signal: new AbortController().signal, retryMs: 1 }).catch((e: unknown) => e)).toMatchObject({ status: 404 });
  });
});

describe("runSpanTreeText", () => {
  const run: RunJson = {
    id: "run_1",
    status: "completed",
    finish_reason: "stop",
    usage: { input_tokens: 171, output_tokens: 47 },
    duration_ms: 9.1,
    steps: [
      {
        index: 1,
        model: "demo",
        finish_reason: "tool_calls",
        usage: { input_tokens: 37, output_tokens: 20 },
        duration_ms: 8.6,
        model_duration_ms: 0.5,
        tool_calls: [
          { id: "call_1_time", name: "time", arguments: "{}", ok: true, output: "", start_ms: 1, duration_ms: 7.1 },
          { id: "call_2_calc", name: "calc", arguments: "{}", ok: false, output: "error: bad", start_ms: 1, duration_ms: 7.8 },
        ],
      },
      { index: 2, model: "demo", finish_reason: "stop", usage: { input_tokens: 134, output_tokens: 27 }, duration_ms: 0.3, model_duration_ms: 0.2, tool_calls: [] },
    ],
  };

  it("draws a run as --trace does, from its steps and tool calls", () => {
    expect(runSpanTreeText(run, new Map([[1, 0.2], [2, 8.8]]))).toBe(
      [
        "invoke_agent skiff    +0.0ms 9.1ms  ████████████████████████  in 171 · out 47 tok · stop",
        "├─ chat demo          +0.2ms 0.5ms  ██······················  in 37 · out 20 tok · tool_calls",
        "├─ execute_tool time  +1.0ms 7.1ms  ··████████████████████··  call_1_time",
        "├─ execute_tool calc  +1.0ms 7.8ms  ··██████████████████████  ERROR tool_error",
        "└─ chat demo          +8.8ms 0.2ms  ·······················█  in 134 · out 27 tok · stop",
        "",
      ].join("\n"),
    );
  });

  it("places steps one after another without their start times, and draws a failed run's partial with its error", () => {
    const failed: RunJson = { id: "run_2", status: "failed", error: { type: "timeout_error", message: "the run's timeout (2s) passed" }, partial: { ...run, finish_reason: "timeout" } };
    const text = runSpanTreeText(failed)!;
    expect(text.split("\n")[0]).toEndWith("ERROR timeout_error: the run's timeout (2s) passed");
    expect(text).toContain("└─ chat demo          +8.6ms 0.2ms");
    expect(runSpanTreeText({ id: "run_3", status: "running" })).toBeUndefined();
  });
});

describe("format", () => {
  it("writes durations, tokens, costs and JSON for reading", () => {
    expect([0.84, 412.4, 3_204, 125_000, undefined].map(formatDuration)).toEqual(["0.8ms", "412ms", "3.20s", "2m05s", "—"]);
    expect(formatTokens({ input_tokens: 171, output_tokens: 47 })).toBe("in 171 · out 47");
    expect(formatTokens(undefined)).toBe("—");
    expect([null, 0, 0.000123, 1.5].map(formatCost)).toEqual(["—", "$0", "$0.00012", "$1.5000"]);
    expect(prettyJson('{"a":[1,2]}')).toBe('{\n  "a": [\n    1,\n    2\n  ]\n}');
    expect(prettyJson("not json <b>")).toBe("not json <b>");
  });
});
