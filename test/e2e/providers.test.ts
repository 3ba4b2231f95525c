/**
 * Each provider's reply shape (test/fixtures/providers) replayed to the compiled binary, through
 * `ask --json` (whole replies) and through a streamed run of `skiff serve` (POST /v1/runs with
 * "stream": true) or `chat`: text, tool calls, usage, finish reason, exit code, and what goes back
 * to the provider on the next request.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "bun:test";
import { join } from "node:path";
import { type FakeOpenAI, type FakeReply, type RecordedRequest, reply, startFakeOpenAI } from "../fakes/fake-openai-server.ts";
import { fixtureReplies } from "../fakes/provider-fixtures.ts";
import { createTempDirs } from "../helpers/temp-dirs.ts";
import { parseSse } from "../server/helpers.ts";
import { cleanEnv, runSkiff, skiffBinary } from "./binary.ts";
import { type ServeProcess, startServe, stopAllServes } from "./serve-process.ts";

/** A reply, or a function of the request (a provider that checks what it is sent). */
type Turn = FakeReply | ((request: RecordedRequest) => FakeReply);

const question = "What is 17*23?";
const { make: tempDir, removeAll: removeTempDirs } = createTempDirs("skiff-providers-e2e-");
let turns: readonly Turn[] = [];
let requests: RecordedRequest[] = [];
let fake: FakeOpenAI;
let serve: ServeProcess;

/** The next runs get these replies, one per chat request, and record their requests afresh. */
function script(next: readonly Turn[]): void {
  turns = next;
  requests = [];
}

beforeAll(async () => {
  await skiffBinary();
  fake = startFakeOpenAI((request) => {
    const turn = turns[requests.length];
    requests.push(request);
    if (turn === undefined) return reply.error(500, { message: `no scripted reply for request #${requests.length}` });
    return typeof turn === "function" ? turn(request) : turn;
  });
  serve = await startServe({ args: ["--base-url", fake.url, "--model", "m", "--tools", "calc,time", "--retries", "2"] });
}, 120_000);

afterEach(() => removeTempDirs());

afterAll(async () => {
  await stopAllServes();
  await fake.stop();
});

interface RunJson {
  output: string;
  finish_reason: string;
  steps: { response_id: string | null; finish_reason: string; tool_calls: { id: string; name: string; arguments: string; ok: boolean }[] }[];
  usage: { input_tokens: number; output_tokens: number; cached_input_tokens: number; reasoning_tokens: number };
  messages: Record<string, unknown>[];
}

/** `skiff ask --json` against the fake (whole replies). */
async function ask(extra: readonly string[] = [], env: Record<string, string> = {}) {
  const result = await runSkiff(["ask", "--json", "--base-url", fake.url, "--model", "m", "--tools", "calc,time", "--retries", "2", ...extra, question], {
    env: cleanEnv(env),
  });
  return { ...result, json: result.stdout.trim() === "" ? undefined : (JSON.parse(result.stdout) as RunJson) };
}

/** A streamed run through `skiff serve`: the text deltas and the final event. */
async function streamed(body: Record<string, unknown> = {}, server: ServeProcess = serve) {
  const response = await fetch(`${server.url}/v1/runs`, { method: "POST", body: JSON.stringify({ input: question, stream: true, ...body }) });
  expect(response.status).toBe(200);
  const events = parseSse(await response.text());
  const text = events.filter((e) => e.event === "model.delta").map((e) => (JSON.parse(e.data) as { text: string }).text);
  const last = events.at(-1)!;
  return { text: text.join(""), event: last.event, data: JSON.parse(last.data) as RunJson & { error: { message: string } } };
}

/** The assistant messages of the n-th recorded request, as skiff sent them. */
function sentAssistants(n: number): Record<string, unknown>[] {
  return (requests[n]?.body?.["messages"] as Record<string, unknown>[]).filter((m) => m["role"] === "assistant");
}

/** DeepSeek's rule: every tool-calling assistant message must come back with its reasoning_content. */
function deepseek(replies: readonly FakeReply[]): Turn[] {
  return replies.map((next) => (request: RecordedRequest) => {
    const messages = (request.body?.["messages"] ?? []) as Record<string, unknown>[];
    const index = messages.findIndex((m) => m["role"] === "assistant" && m["tool_calls"] !== undefined && typeof m["reasoning_content"] !== "string");
    if (index === -1) return next;
    const message = `Missing \`reasoning_content\` field in the assistant message at message index ${index}. For more information, please refer to https://api-docs.deepseek.com/guides/thinking_mode#tool-calls`;
    return reply.error(400, { message, errorType: "invalid_request_error", code: "invalid_request_error" });
  });
}

const calc17x23 = { name: "calc", arguments: '{"expression":"17*23"}', ok: true };

describe("provider quirks through the compiled binary", () => {
  it("DeepSeek thinking mode: reasoning_content is kept, sent back with the tool call, and survives the session store", async () => {
    script(deepseek(fixtureReplies("deepseek-thinking-tools")));
    const asked = await ask();
    expect(asked.code).toBe(0);
    expect(asked.json?.output).toBe("17*23 = 391.");
    expect(asked.json?.steps[0]?.tool_calls[0]).toMatchObject({ id: "call_00_DsCalc17x23", ...calc17x23 });
    expect(asked.json?.usage).toEqual({ input_tokens: 420, output_tokens: 72, cached_input_tokens: 320, reasoning_tokens: 32 });
    expect(sentAssistants(1)[0]?.["reasoning_content"]).toBe("The user asks for 17*23. The calc tool computes it exactly, so I call it.");
    expect(asked.json?.messages[0]?.["reasoning_content"]).toBe("The user asks for 17*23. The calc tool computes it exactly, so I call it.");

    // Streamed, in a stored session; the next turn sends the stored reasoning back.
    const dir = tempDir();
    const stored = await startServe({ args: ["--base-url", fake.url, "--model", "m", "--tools", "calc", "--sessions", `sqlite:${join(dir, "s.db")}`] });
    script(deepseek([...fixtureReplies("deepseek-thinking-tools"), reply.text("Still 391.")]));
    const run = await streamed({ session_id: "ds" }, stored);
    expect(run.event).toBe("run.completed");
    expect(run.text).toBe("17*23 = 391.");
    expect(run.data.usage.reasoning_tokens).toBe(32);
    const again = await fetch(`${stored.url}/v1/runs`, { method: "POST", body: JSON.stringify({ input: "And again?", session_id: "ds" }) });
    expect(again.status).toBe(200);
    expect(sentAssistants(2).map((m) => m["reasoning_content"])).toEqual([
      "The user asks for 17*23. The calc tool computes it exactly, so I call it.",
      "The tool returned 391, so 17*23 = 391.",
    ]);
    const session = (await (await fetch(`${stored.url}/v1/sessions/ds`)).json()) as { messages: Record<string, unknown>[] };
    expect(session.messages.filter((m) => m["role"] === "assistant").map((m) => typeof m["reasoning_content"])).toEqual(["string", "string", "undefined"]);
    await stored.stop();
    const exported = await runSkiff(["sessions", "export", "--sessions", `sqlite:${join(dir, "s.db")}`]);
    expect(exported.code).toBe(0);
    const imported = await runSkiff(["sessions", "import", "--sessions", `sqlite:${join(dir, "copy.db")}`], { stdin: exported.stdout });
    expect(imported.code).toBe(0);
  });

  it("DeepSeek: history without reasoning_content gets a 400 quoted as DeepSeek said it, and provider = deepseek fixes it", async () => {
    const input = [
      { role: "user", content: question },
      { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "calc", arguments: '{"expression":"17*23"}' } }] },
      { role: "tool", tool_call_id: "c1", content: "391" },
      { role: "user", content: "Say it in words." },
    ];
    script(deepseek([reply.text("three hundred ninety-one")]));
    const refused = await fetch(`${serve.url}/v1/runs`, { method: "POST", body: JSON.stringify({ input }) });
    expect(refused.status).toBe(502);
    const error = ((await refused.json()) as { error: { message: string } }).error.message;
    expect(error).toContain("HTTP 400: Missing `reasoning_content` field in the assistant message at message index 2");
    expect(error).toContain("for the reason it gave");
    expect(error).not.toContain("check the model name");
    expect(requests).toHaveLength(1);

    // A client that keeps the reasoning (as GET /v1/sessions returns it) gets it sent back.
    script(deepseek([reply.text("three hundred ninety-one")]));
    const withReasoning = input.map((m) => (m.role === "assistant" ? { ...m, reasoning_content: "use calc" } : m));
    const kept = await fetch(`${serve.url}/v1/runs`, { method: "POST", body: JSON.stringify({ input: withReasoning }) });
    expect(kept.status).toBe(200);
    expect(sentAssistants(0)[0]?.["reasoning_content"]).toBe("use calc");

    const configured = await startServe({ args: ["--base-url", fake.url, "--model", "m", "--tools", "calc"], env: cleanEnv({ SKIFF_PROVIDER: "deepseek" }) });
    script(deepseek([reply.text("three hundred ninety-one")]));
    const answered = await fetch(`${configured.url}/v1/runs`, { method: "POST", body: JSON.stringify({ input }) });
    expect(answered.status).toBe(200);
    expect(sentAssistants(0)[0]?.["reasoning_content"]).toBe("");
    await configured.stop();
  });

  it("Mistral content parts: the whole answer (not '91.'), thinking kept as reasoning and not sent back", async () => {
    script(fixtureReplies("mistral-content-parts"));
    const asked = await ask();
    expect(asked.code).toBe(0);
    expect(asked.json?.output).toBe("17*23 = 391.");
    expect(asked.json?.messages.at(-1)).toEqual({ role: "assistant", content: "17*23 = 391.", reasoning: "The tool says 391." });
    expect(sentAssistants(1)[0]).not.toHaveProperty("reasoning");

    script(fixtureReplies("mistral-content-parts"));
    const run = await streamed();
    expect(run.text).toBe("17*23 = 391.");
    expect(run.data.output).toBe("17*23 = 391.");
    expect(run.data.steps.map((s) => s.finish_reason)).toEqual(["tool_calls", "stop"]);
  });

  it("xAI: reasoning billed outside completion_tokens counts as output, and --max-tokens stops on it", async () => {
    script(fixtureReplies("xai-reasoning-usage"));
    const asked = await ask();
    expect(asked.code).toBe(0);
    expect(asked.json?.usage).toEqual({ input_tokens: 460, output_tokens: 546, cached_input_tokens: 384, reasoning_tokens: 511 });

    script(fixtureReplies("xai-reasoning-usage"));
    const run = await streamed();
    expect(run.data.usage.output_tokens).toBe(546);

    script(fixtureReplies("xai-reasoning-usage"));
    const budget = await ask(["--max-tokens", "400"]);
    expect(budget.code).toBe(3);
    expect(budget.json?.finish_reason).toBe("budget");
    expect(requests).toHaveLength(1);
  });

  it("Azure content filter: its own finish reason, not retried, exit 1, the text before it kept; the first non-empty id", async () => {
    script(fixtureReplies("azure-content-filter"));
    const asked = await ask();
    expect(asked.code).toBe(1);
    expect(requests).toHaveLength(1);
    expect(asked.json).toMatchObject({ output: "", finish_reason: "content_filter", steps: [{ response_id: "chatcmpl-AzWhole0001" }] });
    expect(asked.stderr).toContain("content filter stopped the answer");

    script(fixtureReplies("azure-content-filter"));
    const run = await streamed();
    expect(run.event).toBe("run.completed");
    expect(run.text).toBe("Here is how the story begins");
    expect(run.data).toMatchObject({ output: "Here is how the story begins", finish_reason: "content_filter", steps: [{ response_id: "chatcmpl-AzStream0002" }] });

    script(fixtureReplies("azure-content-filter"));
    const chat = await runSkiff(["chat", "--base-url", fake.url, "--model", "m"], { stdin: `${question}\n` });
    expect(chat.code).toBe(1);
    expect(chat.stdout).toBe("Here is how the story begins\n");
    expect(chat.stderr).toContain("content filter stopped this answer");
  });

  it("an error object inside a 200: a 400 fails at once with the provider's words, a 502 is retried", async () => {
    const [rejected, upstream] = fixtureReplies("openrouter-stream-errors");
    script([rejected!, reply.text("never")]);
    const asked = await ask();
    expect(asked.code).toBe(1);
    expect(requests).toHaveLength(1);
    expect(asked.stderr).toContain("(code 400): Provider returned error: Invalid schema for function 'calc'");
    expect(asked.stderr).not.toContain("proxy");

    script([rejected!, reply.text("never")]);
    const run = await streamed();
    expect(run.event).toBe("run.failed");
    expect(run.data.error.message).toContain("error in the stream (code 400)");
    expect(requests).toHaveLength(1);

    script([upstream!, reply.text("17*23 = 391.")]);
    expect((await ask()).json?.output).toBe("17*23 = 391.");
    expect(requests).toHaveLength(2);
    script([upstream!, reply.text("17*23 = 391.")]);
    expect((await streamed()).text).toBe("17*23 = 391.");
    expect(requests).toHaveLength(2);
  });

  it("Snowflake Cortex: replies that never name a finish reason end the run normally", async () => {
    script(fixtureReplies("snowflake-no-finish-reason"));
    const asked = await ask();
    expect(asked.code).toBe(0);
    expect(asked.json?.steps.map((s) => s.finish_reason)).toEqual(["tool_calls", "stop"]);

    script(fixtureReplies("snowflake-no-finish-reason"));
    const run = await streamed();
    expect(run.event).toBe("run.completed");
    expect(run.data).toMatchObject({ output: "17*23 = 391.", finish_reason: "stop", usage: { input_tokens: 700, output_tokens: 45 } });
    expect(run.data.steps.map((s) => s.finish_reason)).toEqual(["tool_calls", "stop"]);
  });

  it("a legacy function_call runs as one tool call and goes back as one", async () => {
    script(fixtureReplies("legacy-function-call"));
    const asked = await ask();
    expect(asked.code).toBe(0);
    expect(asked.json?.output).toBe("17*23 = 391.");
    expect(asked.json?.steps[0]?.tool_calls[0]).toMatchObject({ id: "call_0", ...calc17x23 });
    expect(requests[1]?.body?.["messages"]).toContainEqual({ role: "tool", tool_call_id: "call_0", content: expect.stringContaining("391") });

    script(fixtureReplies("legacy-function-call"));
    const run = await streamed();
    expect(run.data.output).toBe("17*23 = 391.");
    expect(run.data.steps[0]?.tool_calls[0]).toMatchObject({ id: "call_0", ...calc17x23 });
  });

  it("SSE framing: CRLF, comments, a split event and `data: [DONE] ` with trailing whitespace", async () => {
    script(fixtureReplies("sse-framing"));
    const run = await streamed();
    expect(run.event).toBe("run.completed");
    expect(run.text).toBe("17*23 = 391.");
    expect(run.data).toMatchObject({ finish_reason: "stop", usage: { input_tokens: 30, output_tokens: 8 } });
    expect(requests).toHaveLength(1);
  });

  it("Gemini: the thought signature goes back on its call, and a call without arguments goes back with {}", async () => {
    for (const how of ["ask", "streamed"] as const) {
      script(fixtureReplies("gemini-thought-signatures"));
      const result = how === "ask" ? (await ask()).json : (await streamed()).data;
      expect(result?.output).toBe("17*23 = 391.");
      expect(result?.usage).toMatchObject({ output_tokens: 91, reasoning_tokens: 58 });
      expect(sentAssistants(1)[0]?.["tool_calls"]).toEqual([
        {
          id: "function-call-1130217342",
          type: "function",
          function: { name: "calc", arguments: '{"expression":"17*23"}' },
          extra_content: { google: { thought_signature: "CpcCAdHtim9eR1m0P0XbLs0ZUuxU3kTqRf2x7kGQpP3Yr8sKx1c4Vn0fSg==" } },
        },
        { id: "function-call-1130217343", type: "function", function: { name: "time", arguments: "{}" } },
      ]);
    }
  });

  it("chat prints each step's text on its own line, and exits 1 after a turn that failed", async () => {
    script([reply.toolCalls([{ name: "calc", arguments: '{"expression":"17*23"}' }], { text: "Let me compute that." }), reply.text("17*23 = 391.")]);
    const glued = await runSkiff(["chat", "--base-url", fake.url, "--model", "m", "--tools", "calc"], { stdin: `${question}\n` });
    expect(glued.code).toBe(0);
    expect(glued.stdout).toBe("Let me compute that.\n17*23 = 391.\n");

    script([reply.error(400, { message: "bad request" }), reply.text("fine")]);
    const failed = await runSkiff(["chat", "--base-url", fake.url, "--model", "m"], { stdin: "first\nsecond\n" });
    expect(failed.stdout).toBe("fine\n");
    expect(failed.stderr).toContain("HTTP 400: bad request");
    expect(failed.code).toBe(1);
  });
});
