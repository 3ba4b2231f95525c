/**
 * The contract scripts rely on, checked on the compiled binary: every outcome of `skiff ask` in
 * the exit-code matrix, with `--json` (stdout is one document valid against `skiff schema result`)
 * and with `--stream-json` (every line valid against `skiff schema event`, the last one final),
 * and the process gone promptly after its last output. One fake endpoint serves every case; each
 * case's question names it, so the cases run side by side.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import Ajv2020, { type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { type FakeOpenAI, type FakeReply, type RecordedRequest, reply, startFakeOpenAI } from "../fakes/fake-openai-server.ts";
import { createTempDirs } from "../helpers/temp-dirs.ts";
import { cleanEnv, runSkiff, skiffBinary } from "./binary.ts";

const { make: tempDir, removeAll: removeTempDirs } = createTempDirs("skiff-contract-");
let fake: FakeOpenAI;
let dir = "";
let validateResult: ValidateFunction;
let validateEvent: ValidateFunction;
/** Chat requests per case, in arrival order. */
const requestsOf = new Map<string, RecordedRequest[]>();
/** Called when a case's first chat request arrives (the SIGINT cases wait for it). */
const arrived = new Map<string, () => void>();

/** The case a request belongs to: the `[case]` tag its question starts with. */
function caseOf(request: RecordedRequest): string {
  const messages = (request.body?.["messages"] ?? []) as { role: string; content: unknown }[];
  const question = messages.find((message) => message.role === "user")?.content;
  return typeof question === "string" ? (/^\[([\w-]+)\]/.exec(question)?.[1] ?? "") : "";
}

/** What the fake answers in each case, by how many requests of the case came before. */
function answer(name: string, count: number): FakeReply {
  switch (name.replace(/-(json|stream|file)$/, "")) {
    case "answered":
      return reply.text("42");
    case "recovered":
      return count === 0 ? reply.error(503, { message: "overloaded", headers: { "retry-after": "0" } }) : reply.text("recovered");
    case "max-steps":
      return reply.toolCalls([{ name: "calc", arguments: '{"expression":"1+1"}' }]);
    case "budget":
      return reply.toolCalls([{ name: "calc", arguments: '{"expression":"1+1"}' }], { usage: { prompt_tokens: 40, completion_tokens: 20 } });
    case "approval":
      return reply.toolCalls([{ id: "call_calc", name: "calc", arguments: '{"expression":"6*7"}' }]);
    case "schema-valid":
      return reply.text(count === 0 ? "The answer is 42." : '{"answer": 42}');
    case "schema-invalid":
      return reply.text(count === 0 ? "42" : '{"answer": "forty-two"}');
    case "timeout":
    case "sigint":
      return reply.hang();
    default:
      return reply.error(400, { message: `contract test: no case "${name}"` });
  }
}

beforeAll(async () => {
  const binary = await skiffBinary();
  dir = tempDir();
  writeFileSync(join(dir, "answer.schema.json"), JSON.stringify({ type: "object", properties: { answer: { type: "number" } }, required: ["answer"], additionalProperties: false }));
  fake = startFakeOpenAI((request) => {
    const name = caseOf(request);
    const seen = requestsOf.get(name) ?? [];
    requestsOf.set(name, [...seen, request]);
    arrived.get(name)?.();
    return answer(name, seen.length);
  });
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  addFormats(ajv);
  const schemaOf = async (name: string) => {
    const printed = Bun.spawn([binary, "schema", name], { stdout: "pipe", stderr: "pipe", env: cleanEnv() });
    const [text, code] = await Promise.all([new Response(printed.stdout).text(), printed.exited]);
    expect(code).toBe(0);
    return JSON.parse(text) as object;
  };
  validateResult = ajv.compile(await schemaOf("result"));
  validateEvent = ajv.compile(await schemaOf("event"));
}, 120_000);

afterAll(async () => {
  await fake?.stop();
  removeTempDirs();
});

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** From the last byte on stdout (or the start, when there was none) to the process's exit. */
  readonly exitLagMs: number;
}

/** Runs `skiff ask` against the fake, timing its exit after its last output; `onStart` may signal it. */
async function ask(args: readonly string[], onStart?: (child: { kill(signal: NodeJS.Signals): void }) => Promise<void>): Promise<Outcome> {
  const binary = await skiffBinary();
  const child = Bun.spawn([binary, "ask", "--base-url", fake.url, "--model", "fake-model", ...args], {
    cwd: dir,
    env: cleanEnv(),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const guard = setTimeout(() => child.kill("SIGKILL"), 30_000);
  let lastOutput = performance.now();
  const chunks: string[] = [];
  const decoder = new TextDecoder();
  const reading = (async () => {
    for await (const chunk of child.stdout) {
      chunks.push(decoder.decode(chunk, { stream: true }));
      lastOutput = performance.now();
    }
  })();
  const signalled = onStart?.(child);
  const code = await child.exited;
  const exitedAt = performance.now();
  await Promise.all([reading, signalled]);
  clearTimeout(guard);
  return { code, stdout: chunks.join(""), stderr: await new Response(child.stderr).text(), exitLagMs: exitedAt - lastOutput };
}

/** Parses and validates `--json` output: exactly one document, valid against `skiff schema result`. */
function resultDocument(outcome: Outcome): Record<string, unknown> {
  const document = JSON.parse(outcome.stdout) as Record<string, unknown>;
  if (!validateResult(document)) throw new Error(`not valid against skiff schema result: ${JSON.stringify(validateResult.errors)}\n${outcome.stdout}`);
  return document;
}

/** Parses and validates `--stream-json` output: every line an event; returns them. */
function eventLines(outcome: Outcome): Record<string, unknown>[] {
  expect(outcome.stdout.endsWith("\n")).toBe(true);
  return outcome.stdout
    .trimEnd()
    .split("\n")
    .map((line) => {
      const event = JSON.parse(line) as Record<string, unknown>;
      if (!validateEvent(event)) throw new Error(`line not valid against skiff schema event: ${JSON.stringify(validateEvent.errors)}\n${line}`);
      return event;
    });
}

/** One row of the matrix: flags, question tag, the exit code, and what the final document says. */
interface Case {
  readonly name: string;
  readonly args: readonly string[];
  readonly exit: number;
  readonly finishReason: string;
  /** `error.code` of the document, when the exit is not 0. */
  readonly errorCode?: string;
  /** Sends SIGINT once the fake has the case's first request. */
  readonly interrupt?: boolean;
}

const cases: readonly Case[] = [
  { name: "answered", args: [], exit: 0, finishReason: "stop" },
  { name: "recovered", args: ["--retries", "1"], exit: 0, finishReason: "stop" },
  { name: "max-steps", args: ["--tools", "calc", "--max-steps", "1"], exit: 1, finishReason: "max_steps", errorCode: "max_steps" },
  { name: "budget", args: ["--tools", "calc", "--max-tokens", "50"], exit: 3, finishReason: "budget", errorCode: "budget_exceeded" },
  { name: "approval", args: ["--tools", "calc", "--require-approval", "calc"], exit: 4, finishReason: "requires_action", errorCode: "requires_action" },
  { name: "schema-valid", args: ["--output-schema", "answer.schema.json"], exit: 0, finishReason: "stop" },
  { name: "schema-invalid", args: ["--output-schema", "answer.schema.json"], exit: 5, finishReason: "output_schema", errorCode: "output_schema" },
  { name: "timeout", args: ["--timeout", "300ms"], exit: 124, finishReason: "timeout", errorCode: "run_timeout" },
  { name: "sigint", args: [], exit: 130, finishReason: "cancelled", errorCode: "run_cancelled", interrupt: true },
];

/** Runs a case in one output form. */
function runCase(entry: Case, form: "json" | "stream"): Promise<Outcome> {
  const tag = `${entry.name}-${form}`;
  const interrupt = entry.interrupt
    ? async (child: { kill(signal: NodeJS.Signals): void }) => {
        await new Promise<void>((resolve) => arrived.set(tag, resolve));
        child.kill("SIGINT");
      }
    : undefined;
  return ask([...entry.args, form === "json" ? "--json" : "--stream-json", `[${tag}] what is 6*7?`], interrupt);
}

describe("skiff ask: the exit-code matrix (compiled binary)", () => {
  it("gives every outcome its exit code and one valid --json document, and exits promptly", async () => {
    const outcomes = await Promise.all(cases.map(async (entry) => ({ entry, outcome: await runCase(entry, "json") })));
    for (const { entry, outcome } of outcomes) {
      const label = `${entry.name}: ${outcome.stderr}`;
      expect({ case: entry.name, code: outcome.code }).toEqual({ case: entry.name, code: entry.exit });
      const document = resultDocument(outcome);
      expect({ label, finish: document["finish_reason"] }).toEqual({ label, finish: entry.finishReason });
      expect((document["error"] as { code?: string } | undefined)?.code).toBe(entry.errorCode);
      expect(outcome.exitLagMs).toBeLessThan(1_000);
    }
    const byName = new Map(outcomes.map(({ entry, outcome }) => [entry.name, JSON.parse(outcome.stdout) as Record<string, unknown>]));
    expect(byName.get("answered")!["output"]).toBe("42");
    expect(byName.get("recovered")!["output"]).toBe("recovered");
    expect(byName.get("approval")!["pending_approvals"]).toEqual([{ step: 1, call_id: "call_calc", tool: "calc", arguments: '{"expression":"6*7"}' }]);
    expect(byName.get("budget")!["budget"]).toBe("tokens");
  }, 90_000);

  it("--stream-json: every line is a valid event, the last one the outcome, the same exit codes", async () => {
    const outcomes = await Promise.all(cases.map(async (entry) => ({ entry, outcome: await runCase(entry, "stream") })));
    for (const { entry, outcome } of outcomes) {
      expect({ case: entry.name, code: outcome.code }).toEqual({ case: entry.name, code: entry.exit });
      const events = eventLines(outcome);
      expect(events[0]!["type"]).toBe("run.started");
      const last = events.at(-1)!;
      const final = last["type"] === "run.failed" ? (last["partial"] as Record<string, unknown>) : last;
      expect({ case: entry.name, type: last["type"], finish: final["finish_reason"] }).toEqual({
        case: entry.name,
        // Runs the loop ended itself complete (with an error when the exit is not 0); those it was stopped in fail.
        type: entry.exit === 124 || entry.exit === 130 ? "run.failed" : entry.exit === 4 ? "run.requires_action" : "run.completed",
        finish: entry.finishReason,
      });
      expect((last["error"] as { code?: string } | undefined)?.code).toBe(entry.errorCode);
      expect(outcome.exitLagMs).toBeLessThan(1_000);
    }
    const answered = [...new Set(eventLines(outcomes[0]!.outcome).map((event) => event["type"]))];
    expect(answered).toEqual(["run.started", "step.started", "model.delta", "run.completed"]);
  }, 90_000);

  it("a bad flag or config is exit 2 with a document saying so, before any request", async () => {
    const before = fake.chatRequests().length;
    const [flag, config, schemaFile, streamFlag] = await Promise.all([
      ask(["--json", "--bogus", "x", "[none] hi"]),
      ask(["--json", "--max-steps", "0", "[none] hi"]),
      ask(["--json", "--output-schema", "missing.json", "[none] hi"]),
      ask(["--stream-json", "--bogus", "[none] hi"]),
    ]);
    for (const outcome of [flag, config, schemaFile]) {
      expect(outcome.code).toBe(2);
      const document = resultDocument(outcome);
      expect(document["finish_reason"]).toBe("error");
      expect(document["steps"]).toEqual([]);
    }
    expect((resultDocument(flag)["error"] as { code: string }).code).toBe("usage");
    expect((resultDocument(config)["error"] as { message: string }).message).toContain("max_steps");
    expect((resultDocument(schemaFile)["error"] as { message: string }).message).toContain("missing.json: no such file");
    expect(streamFlag.code).toBe(2);
    expect(eventLines(streamFlag).map((event) => event["type"])).toEqual(["run.failed"]);
    expect(fake.chatRequests().length).toBe(before);
  }, 60_000);
});

describe("skiff ask --output-schema (compiled binary)", () => {
  it("asks for response_format json_schema, corrects once with the errors, and puts the parsed answer in output_json and --output-file", async () => {
    const file = join(dir, "out", "answer.json");
    const missingDir = await ask(["--output-schema", "answer.schema.json", "--output-file", file, "[schema-valid-file] q"]);
    expect(missingDir.code).toBe(2);
    expect(missingDir.stderr).toContain("its directory does not exist");

    Bun.spawnSync(["mkdir", "-p", join(dir, "out")]);
    const outcome = await ask(["--json", "--output-schema", "answer.schema.json", "--output-file", file, "[schema-valid-file] q"]);
    expect(outcome.code).toBe(0);
    const document = resultDocument(outcome);
    expect(document["output_json"]).toEqual({ answer: 42 });
    expect(await Bun.file(file).json()).toEqual({ answer: 42 });
    const requests = requestsOf.get("schema-valid-file")!;
    expect(requests).toHaveLength(2);
    expect(requests[0]!.body!["response_format"]).toEqual({
      type: "json_schema",
      json_schema: { name: "output", schema: { type: "object", properties: { answer: { type: "number" } }, required: ["answer"], additionalProperties: false } },
    });
    const corrective = (requests[1]!.body!["messages"] as { role: string; content: string }[]).at(-1)!;
    expect(corrective.role).toBe("user");
    expect(corrective.content).toContain("the answer is not JSON");
  }, 60_000);

  it("after the corrective turn, exit 5 with the invalid text and the errors; no --output-file is written", async () => {
    const file = join(dir, "never.json");
    const outcome = await ask(["--json", "--output-schema", "answer.schema.json", "--output-file", file, "[schema-invalid-file] q"]);
    expect(outcome.code).toBe(5);
    const document = resultDocument(outcome);
    expect(document["output"]).toBe('{"answer": "forty-two"}');
    expect(document["output_schema_errors"]).toBe("/answer: must be number");
    expect(document["output_json"]).toBeUndefined();
    expect(await Bun.file(file).exists()).toBe(false);
    expect(outcome.stderr).toContain("did not match the output schema");
  }, 60_000);

  it("`skiff schema` names what it prints, and refuses an unknown document", async () => {
    const unknown = await runSkiff(["schema", "results"], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('schema needs one of result, event, config (got "results")');
    const config = await runSkiff(["schema", "config"], { cwd: dir });
    const viaConfig = await runSkiff(["config", "schema"], { cwd: dir });
    expect(config.stdout).toBe(viaConfig.stdout);
    expect(JSON.parse(config.stdout).properties.output_schema_retries.default).toBe(1);
  }, 60_000);
});
