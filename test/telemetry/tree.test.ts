import { describe, expect, it } from "bun:test";
import { createTreeCollector, type FinishedSpan } from "../../src/telemetry/tree.ts";

const trace = "a".repeat(32);

function span(spanId: string, parentSpanId: string | undefined, name: string, startMs: number, endMs: number, attributes: Record<string, unknown> = {}): FinishedSpan {
  return { traceId: trace, spanId, parentSpanId, name, startMs, endMs, attributes, errorMessage: undefined, isError: false };
}

describe("createTreeCollector", () => {
  it("prints a run when its invoke_agent span ends, nesting grandchildren and leaving other runs' spans", () => {
    const out: string[] = [];
    const collector = createTreeCollector({ write: (text) => out.push(text), barWidth: 10 });
    collector.add(span("c1", "r1", "chat m", 0, 10, { "gen_ai.usage.input_tokens": 3, "gen_ai.usage.output_tokens": 2, "gen_ai.response.finish_reasons": ["tool_calls"] }));
    collector.add(span("g1", "t1", "GET /x", 12, 18));
    collector.add(span("t1", "r1", "execute_tool http", 10, 20, { "gen_ai.tool.call.id": "call_1" }));
    collector.add(span("o1", "r2", "chat other", 0, 5));
    collector.add(span("r1", "caller", "invoke_agent skiff", 0, 20, { "gen_ai.operation.name": "invoke_agent" }));
    expect(out).toHaveLength(1);
    // Column widths aside (spaces squeezed), the rows, bars and notes are exact.
    expect(out[0]!.replace(/ +/g, " ")).toBe(
      [
        "invoke_agent skiff  +0.0ms 20.0ms  ██████████",
        "├─ chat m           +0.0ms  10.0ms  █████·····  in 3 · out 2 tok · tool_calls",
        "└─ execute_tool http  +10.0ms 10.0ms  ·····█████  call_1",
        "   └─ GET /x          +12.0ms  6.0ms  ······███·",
        "",
      ].join("\n").replace(/ +/g, " "),
    );
    collector.add(span("r2", undefined, "invoke_agent skiff", 0, 6, { "gen_ai.operation.name": "invoke_agent" }));
    expect(out[1]).toContain("└─ chat other");
  });

  it("shows ERROR with error.type and the status message", () => {
    const out: string[] = [];
    const collector = createTreeCollector({ write: (text) => out.push(text) });
    collector.add({ ...span("t1", "r1", "execute_tool x", 1, 2, { "error.type": "timeout" }), isError: true, errorMessage: "too slow" });
    collector.add(span("r1", undefined, "invoke_agent skiff", 0, 3, { "gen_ai.operation.name": "invoke_agent" }));
    expect(out[0]).toContain("ERROR timeout: too slow");
  });
});

describe("createTreeCollector, arrival order", () => {
  const children = [
    span("c1", "r1", "chat m", 0, 4, { "gen_ai.usage.input_tokens": 3, "gen_ai.usage.output_tokens": 2 }),
    span("t1", "r1", "execute_tool a", 4, 9, { "gen_ai.tool.call.id": "call_a" }),
    span("t2", "r1", "execute_tool b", 4, 6, { "gen_ai.tool.call.id": "call_b" }),
    span("t3", "r1", "execute_tool c", 4, 7.5, { "gen_ai.tool.call.id": "call_c" }),
    span("c2", "r1", "chat m", 9, 12, { "gen_ai.usage.input_tokens": 9, "gen_ai.usage.output_tokens": 1 }),
  ];
  const root = span("r1", undefined, "invoke_agent skiff", 0, 12, { "gen_ai.operation.name": "invoke_agent" });

  function draw(order: readonly FinishedSpan[]): string {
    let out = "";
    const collector = createTreeCollector({ write: (text) => (out += text), barWidth: 12 });
    for (const child of order) collector.add(child);
    collector.add(root);
    return out;
  }

  it("draws the same tree whatever order the children arrive in: by start, then end", () => {
    const expected = draw(children);
    const rows = expected.split("\n").map((line) => /(?:invoke_agent|chat|execute_tool) \w+/.exec(line)?.[0]);
    expect(rows).toEqual(["invoke_agent skiff", "chat m", "execute_tool b", "execute_tool c", "execute_tool a", "chat m", undefined]);
    const orders = [[...children].reverse(), [children[3]!, children[0]!, children[4]!, children[1]!, children[2]!], [children[2]!, children[3]!, children[1]!, children[4]!, children[0]!]];
    for (const order of orders) expect(draw(order)).toBe(expected);
  });

  it("notes a resumed run's attempt on its row", () => {
    let out = "";
    const collector = createTreeCollector({ write: (text) => (out += text) });
    collector.add({
      ...span("r1", undefined, "invoke_agent skiff", 0, 3, { "gen_ai.operation.name": "invoke_agent" }),
      events: [{ name: "skiff.run.resumed", attributes: { "skiff.run.attempt": 2, "skiff.replica": "b" } }],
    });
    expect(out).toMatch(/^invoke_agent skiff .* resumed \(attempt 2\)\n$/);
  });
});
