import { describe, expect, it } from "bun:test";
import { estimateTokens, fitContext, trimmedToolOutput } from "../../src/agent/index.ts";
import type { Message } from "../../src/model/messages.ts";

const big = "x".repeat(4_000); // ~1000 tokens

function turn(n: number): Message[] {
  return [
    { role: "user", content: `question ${n}` },
    { role: "assistant", content: null, tool_calls: [{ id: `c${n}`, name: "t", arguments: "{}" }] },
    { role: "tool", tool_call_id: `c${n}`, content: big },
    { role: "assistant", content: `answer ${n}` },
  ];
}

const total = (messages: readonly Message[]) => messages.reduce((n, m) => n + estimateTokens(m), 0);

describe("fitContext", () => {
  const system: Message = { role: "system", content: "be brief" };
  const history: Message[] = [system, ...turn(1), ...turn(2), ...turn(3), { role: "user", content: "question 4" }];

  it("returns the messages untouched when they fit", () => {
    expect(fitContext(history, 100_000)).toBe(history);
  });

  it("trims the oldest tool outputs first, keeping every message", () => {
    const fitted = fitContext(history, 1_500);
    expect(fitted).toHaveLength(history.length);
    const tools = fitted.filter((m) => m.role === "tool").map((m) => m.content);
    expect(tools).toEqual([trimmedToolOutput, trimmedToolOutput, big]);
    expect(total(fitted)).toBeLessThanOrEqual(1_500);
  });

  it("then drops the oldest whole turns, never the system prompt or the last user message", () => {
    const fitted = fitContext(history, 200);
    expect(fitted[0]).toEqual(system);
    expect(fitted.at(-1)).toEqual({ role: "user", content: "question 4" });
    expect(total(fitted)).toBeLessThanOrEqual(200);
    // No tool result is left without the assistant message that called it.
    const callIds = new Set(fitted.flatMap((m) => (m.role === "assistant" ? (m.tool_calls ?? []).map((c) => c.id) : [])));
    for (const m of fitted) if (m.role === "tool") expect(callIds.has(m.tool_call_id)).toBe(true);
  });

  it("trims the current turn's tool outputs only as a last resort", () => {
    const current: Message[] = [system, { role: "user", content: "q" }, ...turn(9).slice(1, 3)];
    const fitted = fitContext(current, 50);
    expect(fitted.map((m) => m.role)).toEqual(["system", "user", "assistant", "tool"]);
    expect(fitted[3]!.content).toBe(trimmedToolOutput);
  });
});
