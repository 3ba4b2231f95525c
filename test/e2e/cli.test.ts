import { afterEach, beforeAll, describe, expect, it } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type FakeOpenAI, reply, startFakeOpenAI } from "../fakes/fake-openai-server.ts";
import { cleanEnv, runSkiff, skiffBinary } from "./binary.ts";
import { createTempDirs } from "../helpers/temp-dirs.ts";

const demoQuestion = "What time is it in Tokyo and in Paris, and what is 17*23?";
let fake: FakeOpenAI | undefined;
const { make: tempDir, removeAll: removeTempDirs } = createTempDirs("skiff-cli-");

beforeAll(async () => {
  await skiffBinary();
}, 120_000);

afterEach(async () => {
  await fake?.stop();
  fake = undefined;
  removeTempDirs();
});

/** Polls until `check` is true or fails after `ms`. */
async function waitFor(check: () => boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await Bun.sleep(20);
  }
}

describe("skiff ask (compiled binary)", () => {
  it("answers the README's demo question offline from real tool results, with a span tree on stderr", async () => {
    const result = await runSkiff(["ask", "--model", "demo", "--trace", demoQuestion]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^In Tokyo it is \d\d:\d\d on \w+ \(UTC\+09:00\)\. In Paris it is \d\d:\d\d on \w+ \(UTC\+0[12]:00\)\. 17\*23 = 391\.\n$/);
    const tree = result.stderr;
    expect(tree).toContain("invoke_agent skiff");
    expect(tree.match(/execute_tool time/g)).toHaveLength(2);
    expect(tree.match(/execute_tool calc/g)).toHaveLength(1);
    expect(tree.match(/chat demo/g)).toHaveLength(2);
  });

  it("runs with a PATH holding no node or bun", async () => {
    const env = cleanEnv();
    expect(Bun.which("node", { PATH: env["PATH"]! })).toBeNull();
    expect(Bun.which("bun", { PATH: env["PATH"]! })).toBeNull();
    const result = await runSkiff(["ask", "--model", "demo", "what is 6*7?"], { env });
    expect(result.stdout).toBe("6*7 = 42.\n");
  });

  it("reads the question from stdin when it is '-'", async () => {
    const result = await runSkiff(["ask", "--model", "demo", "-"], { stdin: "what is 2^10?\n" });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("2^10 = 1024.\n");
  });

  it("prints the whole run result with --json", async () => {
    const result = await runSkiff(["ask", "--model", "demo", "--json", "what is 17*23?"]);
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout) as {
      output: string;
      finish_reason: string;
      steps: { tool_calls: { name: string; ok: boolean; output: string }[] }[];
      usage: { input_tokens: number; output_tokens: number };
      messages: { role: string }[];
    };
    expect(json.output).toBe("17*23 = 391.");
    expect(json.finish_reason).toBe("stop");
    expect(json.steps).toHaveLength(2);
    expect(json.steps[0]!.tool_calls[0]).toMatchObject({ name: "calc", ok: true });
    expect(JSON.parse(json.steps[0]!.tool_calls[0]!.output)).toEqual({ expression: "17*23", result: 391 });
    expect(json.usage.input_tokens).toBeGreaterThan(0);
    expect(json.messages.map((m) => m.role)).toEqual(["assistant", "tool", "assistant"]);
  });

  it("talks to an OpenAI-compatible endpoint: tools offered, calls run, results sent back, key sent", async () => {
    fake = startFakeOpenAI(
      [
        reply.toolCalls([{ id: "c1", name: "calc", arguments: '{"expression":"17*23"}' }]),
        reply.text("It is 391."),
      ],
      { apiKey: "sk-test-key" },
    );
    const result = await runSkiff(["ask", "--base-url", fake.url, "--model", "fake-model", "--tools", "calc,time", "what is 17*23?"], {
      env: cleanEnv({ OPENAI_API_KEY: "sk-test-key" }),
    });
    expect(result.stderr).not.toContain("sk-test-key");
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("It is 391.\n");
    const [first, second] = fake.chatRequests();
    expect(first!.headers["authorization"]).toBe("Bearer sk-test-key");
    expect((first!.body!["tools"] as { function: { name: string } }[]).map((t) => t.function.name).sort()).toEqual(["calc", "time"]);
    const sent = second!.body!["messages"] as { role: string; tool_call_id?: string; content?: string }[];
    expect(sent.at(-1)).toMatchObject({ role: "tool", tool_call_id: "c1" });
    expect(JSON.parse(sent.at(-1)!.content!)).toEqual({ expression: "17*23", result: 391 });
  });

  it("needs no key for a local endpoint", async () => {
    fake = startFakeOpenAI([reply.text("hi from local")]);
    const result = await runSkiff(["ask", "--base-url", fake.url, "--model", "llama3.1", "hello"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("hi from local\n");
    expect(fake.chatRequests()[0]!.headers["authorization"]).toBeUndefined();
  });

  it("exits 1 with one clear line when the model fails, and no stack trace", async () => {
    fake = startFakeOpenAI([reply.error(401, { message: "Incorrect API key provided", code: "invalid_api_key" })]);
    const result = await runSkiff(["ask", "--base-url", fake.url, "--model", "m", "hello"], {
      env: cleanEnv({ OPENAI_API_KEY: "sk-wrong-secret" }),
    });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toStartWith("skiff: error: ");
    expect(result.stderr).toContain("401");
    expect(result.stderr).not.toContain("sk-wrong-secret");
    expect(result.stderr).not.toMatch(/\bat .*\.ts:\d+/);
    expect(fake.chatRequests()).toHaveLength(1);
  });

  it("exits 1 when max_steps is reached, saying how to fix it", async () => {
    const loop = reply.toolCalls([{ name: "calc", arguments: '{"expression":"1+1"}' }]);
    fake = startFakeOpenAI([loop, loop]);
    const result = await runSkiff(["ask", "--base-url", fake.url, "--model", "m", "--tools", "calc", "--max-steps", "2", "loop"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("after 2 step(s) (max_steps); raise --max-steps");
  });

  it("exits 2 on usage and config errors, naming what was wrong", async () => {
    const badFlag = await runSkiff(["ask", "--max-step", "3", "hi"]);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toBe('skiff: usage: unknown flag --max-step for "skiff ask"; did you mean --max-steps? (see skiff ask --help)\n');

    const badValue = await runSkiff(["ask", "--model", "demo", "hi"], { env: cleanEnv({ SKIFF_TIMEOUT: "forever" }) });
    expect(badValue.code).toBe(2);
    expect(badValue.stderr).toContain("timeout (env SKIFF_TIMEOUT): expected a duration");

    const dir = tempDir();
    writeFileSync(join(dir, "skiff.toml"), 'model = "demo"\nmax_steps = "ten"\n');
    const badFile = await runSkiff(["ask", "hi"], { cwd: dir });
    expect(badFile.code).toBe(2);
    expect(badFile.stderr).toContain(`max_steps (${join(dir, "skiff.toml")}:2)`);

    const unknownTool = await runSkiff(["ask", "--model", "demo", "--tools", "teleport", "hi"]);
    expect(unknownTool.code).toBe(2);
    expect(unknownTool.stderr).toContain('no built-in tool named "teleport"');

    const noCommand = await runSkiff(["fly"]);
    expect(noCommand.code).toBe(2);
  });

  it("exits 124 when the run times out", async () => {
    fake = startFakeOpenAI([reply.hang()]);
    const result = await runSkiff(["ask", "--base-url", fake.url, "--model", "m", "--timeout", "500ms", "hello"]);
    expect(result.code).toBe(124);
    expect(result.stderr).toContain("did not finish within its timeout of 500ms");
    expect(result.ms).toBeLessThan(5_000);
  });

  it("exits 130 on Ctrl-C (SIGINT) and stops the model request", async () => {
    fake = startFakeOpenAI([reply.hang()]);
    const binary = await skiffBinary();
    const child = Bun.spawn([binary, "ask", "--base-url", fake.url, "--model", "m", "hello"], {
      env: cleanEnv(),
      stdout: "pipe",
      stderr: "pipe",
    });
    const server = fake;
    await waitFor(() => server.chatRequests().length === 1);
    child.kill("SIGINT");
    const code = await child.exited;
    expect(code).toBe(130);
    expect(await new Response(child.stderr).text()).toContain("cancelled: interrupted (Ctrl-C)");
  });
});

describe("skiff chat (compiled binary)", () => {
  it("keeps history, resets, and exits on /exit", async () => {
    const result = await runSkiff(["chat", "--model", "demo"], { stdin: "what is 2*3?\nwhat is 4+4?\n/reset\n/exit\n" });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("2*3 = 6.\n4+4 = 8.\n");
    expect(result.stderr).toContain("(history cleared)");
  });

  it("streams from an OpenAI-compatible endpoint and sends earlier turns back", async () => {
    fake = startFakeOpenAI([reply.text(["Hel", "lo"]), reply.text("Again")]);
    const result = await runSkiff(["chat", "--base-url", fake.url, "--model", "m"], { stdin: "hi\nonce more\n" });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("Hello\nAgain\n");
    const second = fake.chatRequests()[1]!;
    expect(second.stream).toBe(true);
    const roles = (second.body!["messages"] as { role: string }[]).map((m) => m.role);
    expect(roles).toEqual(["system", "user", "assistant", "user"]);
  });
});

describe("skiff config, tools, version (compiled binary)", () => {
  it("config show gives each value's source and never a secret", async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, "skiff.toml"),
      'model = "demo"\n[otel]\nheaders = { authorization = "Bearer sk-header-secret", "x-token" = "env:OTLP_TOKEN" }\n',
    );
    const result = await runSkiff(["config", "show", "--max-steps", "4"], {
      cwd: dir,
      env: cleanEnv({ OPENAI_API_KEY: "sk-env-secret", SKIFF_RETRIES: "5" }),
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`model = "demo"  # ${join(dir, "skiff.toml")}:1`);
    expect(result.stdout).toContain("max_steps = 4  # flag --max-steps");
    expect(result.stdout).toContain("retries = 5  # env SKIFF_RETRIES");
    expect(result.stdout).toContain('timeout = "2m"  # default');
    expect(result.stdout).toContain('"x-token":"env:OTLP_TOKEN"');
    expect(result.stdout).toContain("# api key: set (env OPENAI_API_KEY), value hidden");
    expect(result.stdout).not.toContain("sk-env-secret");
    expect(result.stdout).not.toContain("sk-header-secret");
  });

  it("config check passes a good config and fails a bad one with exit 2", async () => {
    expect((await runSkiff(["config", "check", "--model", "demo"])).code).toBe(0);
    const bad = await runSkiff(["config", "check", "--llm-timeout", "fast"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("llm_timeout (flag --llm-timeout)");
  });

  it("config schema prints the JSON Schema of the file", async () => {
    const result = await runSkiff(["config", "schema"]);
    const schema = JSON.parse(result.stdout) as { properties: Record<string, { default?: unknown }> };
    expect(schema.properties["timeout"]!.default).toBe("2m");
    expect(Object.keys(schema.properties)).toContain("server");
  });

  it("tools list and tools call run a tool without a model", async () => {
    const list = await runSkiff(["tools", "list", "--tools", "calc", "--json"]);
    const tools = JSON.parse(list.stdout) as { name: string; source: string; parameters: { type: string } }[];
    expect(tools).toEqual([expect.objectContaining({ name: "calc", source: "builtin", parameters: expect.objectContaining({ type: "object" }) })]);

    const ok = await runSkiff(["tools", "call", "--tools", "calc", "calc", '{"expression":"(1+2)*3"}']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ expression: "(1+2)*3", result: 9 });

    const bad = await runSkiff(["tools", "call", "--tools", "calc", "calc", '{"expression":"1/0"}']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("Division by zero");
  });

  it("version and --help work", async () => {
    const version = await runSkiff(["version", "--json"]);
    const info = JSON.parse(version.stdout) as { version: string; target: string; bun: string };
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.target).toBe(`${process.platform}-${process.arch}`);
    const help = await runSkiff(["ask", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--max-steps INT");
    expect(help.stdout).toContain("SKIFF_MAX_STEPS");
  });
});
