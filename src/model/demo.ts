import { cityZones, findCities } from "../tools/builtin/cities.ts";
import type { AssistantMessage, Message, ToolCall, Usage } from "./messages.ts";
import type { Model, ModelRequest, ModelResponse } from "./model.ts";

/** Arithmetic-looking runs of text: numbers joined by at least one operator. */
const expressionPattern = /[(\-+]*\s*\d[\d.]*(?:\s*[-+*/%^×÷]\s*[(\-+]*\s*\d[\d.]*\)*)+\)*/g;

/**
 * The offline, deterministic demo model (`--model demo`). It reads the last user message, calls
 * `time` for every city it knows and `calc` for every arithmetic expression, all in one step, then
 * writes its answer from the tool results. It needs no network and no key, and it exercises the
 * real loop: parallel tools, tool errors, streaming and tracing.
 */
export function createDemoModel(): Model {
  let responseCounter = 0;
  return {
    name: "demo",
    provider: "skiff.demo",
    async complete(request: ModelRequest): Promise<ModelResponse> {
      if (request.signal.aborted) throw request.signal.reason;
      const span = request.spans?.startChat({
        model: "demo",
        provider: "skiff.demo",
        stream: request.onDelta !== undefined,
        attempt: 1,
        messages: request.messages,
        tools: request.tools,
      });
      const turn = currentTurn(request.messages);
      const available = new Set(request.tools.map((tool) => tool.name));
      const calls = turn.toolResults.length === 0 ? plannedCalls(turn.question, available) : [];
      const message: AssistantMessage =
        calls.length > 0
          ? { role: "assistant", content: null, tool_calls: calls }
          : { role: "assistant", content: composeAnswer(turn, available) };
      if (message.content && request.onDelta) {
        // Stream word by word so `chat` and SSE show real deltas.
        for (const piece of message.content.match(/\S+\s*/g) ?? []) request.onDelta(piece);
      }
      const response: ModelResponse = {
        message,
        usage: estimateUsage(request.messages, message),
        finishReason: calls.length > 0 ? "tool_calls" : "stop",
        id: `demo-${++responseCounter}`,
        model: "demo",
        provider: "skiff.demo",
      };
      span?.end(response);
      return response;
    },
  };
}

interface Turn {
  readonly question: string;
  /** Calls the demo made in this turn, with the tool message that answered each. */
  readonly toolResults: readonly { readonly call: ToolCall; readonly content: string }[];
}

function currentTurn(messages: readonly Message[]): Turn {
  let lastUser = -1;
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]!.role === "user") {
      lastUser = i;
      break;
    }
  }
  const question = lastUser >= 0 ? (messages[lastUser] as { content: string }).content : "";
  const results: { call: ToolCall; content: string }[] = [];
  const calls = new Map<string, ToolCall>();
  for (const message of messages.slice(lastUser + 1)) {
    if (message.role === "assistant") for (const call of message.tool_calls ?? []) calls.set(call.id, call);
    if (message.role === "tool") {
      const call = calls.get(message.tool_call_id);
      if (call) results.push({ call, content: message.content });
    }
  }
  return { question, toolResults: results };
}

function plannedCalls(question: string, available: ReadonlySet<string>): ToolCall[] {
  const calls: ToolCall[] = [];
  if (available.has("time")) {
    for (const { zone } of findCities(question)) {
      calls.push({ id: `call_${calls.length + 1}_time`, name: "time", arguments: JSON.stringify({ zone }) });
    }
  }
  if (available.has("calc")) {
    for (const expression of findExpressions(question)) {
      calls.push({ id: `call_${calls.length + 1}_calc`, name: "calc", arguments: JSON.stringify({ expression }) });
    }
  }
  return calls;
}

/** Arithmetic expressions in the text, trimmed of stray punctuation. */
export function findExpressions(text: string): string[] {
  return [...text.matchAll(expressionPattern)]
    .map((match) => match[0].trim())
    .filter((expression) => /\d\s*[-+*/%^×÷]\s*[(\-+]*\s*\d/.test(expression));
}

function composeAnswer(turn: Turn, available: ReadonlySet<string>): string {
  if (turn.toolResults.length === 0) {
    const tools = [...available].filter((name) => name === "time" || name === "calc");
    const can = tools.length > 0 ? `With the ${tools.join(" and ")} tool(s) on, ` : "With the time and calc tools enabled, ";
    return (
      `I am skiff's offline demo model, so I only know a few tricks. ${can}I can tell the time in cities ` +
      `such as Tokyo or Paris and work out arithmetic such as 17*23. Try: "What time is it in Tokyo, and what is 17*23?"`
    );
  }
  const zoneToCity = new Map(findCities(turn.question).map(({ city, zone }) => [zone, city]));
  const sentences = turn.toolResults.map(({ call, content }) => describeResult(call, content, zoneToCity));
  return sentences.join(" ");
}

function describeResult(call: ToolCall, content: string, zoneToCity: ReadonlyMap<string, string>): string {
  const args = safeJson(call.arguments) as Record<string, unknown> | undefined;
  if (content.startsWith("error:")) {
    const subject = call.name === "time" ? `the time in ${String(args?.["zone"])}` : `${String(args?.["expression"])}`;
    return `I could not work out ${subject}: ${content.slice("error:".length).trim()}`;
  }
  const result = safeJson(content) as Record<string, unknown> | undefined;
  if (call.name === "time" && result) {
    const zone = String(result["zone"] ?? args?.["zone"]);
    const city = zoneToCity.get(zone) ?? cityOfZone(zone) ?? zone;
    const local = String(result["local"] ?? "");
    const clock = local.slice(11, 16) || local;
    return `In ${city} it is ${clock} on ${String(result["weekday"] ?? "")} (UTC${String(result["utc_offset"] ?? "")}).`;
  }
  if (call.name === "calc" && result) return `${String(result["expression"])} = ${String(result["result"])}.`;
  return `${call.name} returned ${content}.`;
}

function cityOfZone(zone: string): string | undefined {
  return Object.entries(cityZones).find(([, candidate]) => candidate === zone)?.[0];
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Rough token counts (about four characters a token), so usage and budgets behave plausibly. */
function estimateUsage(messages: readonly Message[], answer: AssistantMessage): Usage {
  let inputChars = 0;
  for (const message of messages) {
    inputChars += (message.content ?? "").length + 4;
    if (message.role === "assistant") for (const call of message.tool_calls ?? []) inputChars += call.arguments.length + call.name.length;
  }
  const outputChars = (answer.content ?? "").length + (answer.tool_calls ?? []).reduce((n, c) => n + c.arguments.length + c.name.length, 0);
  return {
    inputTokens: Math.ceil(inputChars / 4),
    outputTokens: Math.max(1, Math.ceil(outputChars / 4)),
    cachedInputTokens: 0,
    reasoningTokens: 0,
  };
}
