import { describe, expect, it } from "bun:test";
import type { Message } from "../../src/model/messages.ts";
import { historyDropCount, trimHistory } from "../../src/sessions/index.ts";

const user = (content: string): Message => ({ role: "user", content });
const answer = (content: string): Message => ({ role: "assistant", content });
const calls = (...ids: string[]): Message => ({
  role: "assistant",
  content: null,
  tool_calls: ids.map((id) => ({ id, name: "calc", arguments: "{}" })),
});
const result = (id: string): Message => ({ role: "tool", tool_call_id: id, content: "1" });

describe("historyDropCount", () => {
  it("drops nothing when the history fits", () => {
    expect(historyDropCount(["user", "assistant"], 2)).toBe(0);
    expect(historyDropCount([], 5)).toBe(0);
  });

  it("drops whole turns, oldest first", () => {
    // turn 1: user, assistant · turn 2: user, assistant(calls), tool, assistant · turn 3: user, assistant
    const roles: Message["role"][] = ["user", "assistant", "user", "assistant", "tool", "assistant", "user", "assistant"];
    expect(historyDropCount(roles, 7)).toBe(2);
    expect(historyDropCount(roles, 6)).toBe(2);
    expect(historyDropCount(roles, 5)).toBe(6);
    expect(historyDropCount(roles, 2)).toBe(6);
  });

  it("cuts inside the newest turn only before a non-tool message when that turn alone is too long", () => {
    const roles: Message["role"][] = ["user", "assistant", "tool", "tool", "assistant", "tool", "assistant"];
    // Must drop 3: index 3 is a tool result; the first safe cut at or after it is the assistant at 4.
    expect(historyDropCount(roles, 4)).toBe(4);
    expect(historyDropCount(roles, 1)).toBe(6);
  });
});

describe("trimHistory", () => {
  it("never leaves a tool result without the call that asked for it", () => {
    const history = [user("a"), calls("c1", "c2"), result("c1"), result("c2"), answer("x"), user("b"), calls("c3"), result("c3"), answer("y")];
    for (let max = 1; max <= history.length; max++) {
      const kept = trimHistory(history, max);
      const callIds = new Set(kept.flatMap((m) => (m.role === "assistant" ? (m.tool_calls ?? []).map((c) => c.id) : [])));
      for (const message of kept) if (message.role === "tool") expect(callIds.has(message.tool_call_id)).toBe(true);
      expect(kept.at(-1)).toEqual(answer("y"));
    }
  });

  it("returns the same array when nothing is dropped", () => {
    const history = [user("a"), answer("b")];
    expect(trimHistory(history, 10)).toBe(history);
  });
});
