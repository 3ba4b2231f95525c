import { afterEach, beforeAll, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFakeOpenAIs, reply } from "../fakes/fake-openai-server.ts";
import { runSkiff, skiffBinary } from "./binary.ts";

const { start: serve, stopAll: stopFakes } = createFakeOpenAIs();
const dirs: string[] = [];

beforeAll(async () => {
  await skiffBinary();
}, 120_000);

afterEach(async () => {
  await stopFakes();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function configDir(toml: string): string {
  const dir = mkdtempSync(join(tmpdir(), "skiff-reliability-"));
  dirs.push(dir);
  writeFileSync(join(dir, "skiff.toml"), toml);
  return dir;
}

describe("model layer reliability (compiled binary)", () => {
  it("honors Retry-After: 2 and logs the retry on stderr", async () => {
    const fake = serve([reply.rateLimited(2), reply.text("after the wait")]);
    const result = await runSkiff(["ask", "--base-url", fake.url, "--model", "m", "hi"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("after the wait\n");
    expect(result.stderr).toContain("skiff: warn: model request retry");
    expect(result.stderr).toContain("wait_ms=2000");
    const [first, second] = fake.chatRequests();
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1_900);
  });

  it("fails at once on Retry-After: 3600, quoting the provider and the limit", async () => {
    const fake = serve([reply.rateLimited(3600)]);
    const result = await runSkiff(["ask", "--base-url", fake.url, "--model", "m", "hi"]);
    expect(result.code).toBe(1);
    expect(result.ms).toBeLessThan(5_000);
    expect(result.stderr).toContain("Rate limit reached");
    expect(result.stderr).toContain("max_retry_wait");
    expect(fake.chatRequests()).toHaveLength(1);
  });

  it("sends exactly retries + 1 requests (the SDK adds none)", async () => {
    const fake = serve(() => reply.error(500));
    const result = await runSkiff(["ask", "--base-url", fake.url, "--model", "m", "--retries", "3", "hi"]);
    expect(result.code).toBe(1);
    expect(fake.chatRequests()).toHaveLength(4);
  });

  it("falls back to the next provider and reports which one answered", async () => {
    const primary = serve(() => reply.error(503));
    const backup = serve(() => reply.text("backup here"));
    const dir = configDir(
      `model = "primary-model"\nbase_url = "${primary.url}"\nretries = 0\n\n[[fallback]]\nmodel = "backup-model"\nbase_url = "${backup.url}"\nprovider = "ollama"\n`,
    );
    const result = await runSkiff(["ask", "--json", "hi"], { cwd: dir });
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout) as { output: string; steps: { model: string; provider: string }[] };
    expect(json.output).toBe("backup here");
    expect(json.steps[0]).toMatchObject({ model: "backup-model", provider: "ollama" });
  });

  it("stops a looping model at the token budget with exit 3 and finish_reason budget", async () => {
    const fake = serve(() =>
      reply.toolCalls([{ name: "calc", arguments: '{"expression":"1+1"}' }], { usage: { prompt_tokens: 300, completion_tokens: 50 } }),
    );
    const result = await runSkiff(["ask", "--base-url", fake.url, "--model", "m", "--tools", "calc", "--max-tokens", "1000", "--json", "loop"]);
    expect(result.code).toBe(3);
    const json = JSON.parse(result.stdout) as { finish_reason: string; budget: string; steps: unknown[] };
    expect(json).toMatchObject({ finish_reason: "budget", budget: "tokens" });
    expect(json.steps).toHaveLength(3);
    expect(result.stderr).toContain("token budget (1000 tokens) after 3 step(s)");
  });

  it("stops at the cost budget and reports the cost in --json", async () => {
    const fake = serve(() =>
      reply.toolCalls([{ name: "calc", arguments: '{"expression":"2+2"}' }], { usage: { prompt_tokens: 100_000, completion_tokens: 10_000 } }),
    );
    const dir = configDir(`model = "m"\nbase_url = "${fake.url}"\nmax_cost = 0.05\n[tools]\nenable = ["calc"]\n[pricing.m]\ninput = 0.2\noutput = 1.0\n`);
    const result = await runSkiff(["ask", "--json", "loop"], { cwd: dir });
    expect(result.code).toBe(3);
    const json = JSON.parse(result.stdout) as { finish_reason: string; budget: string; cost_usd: number; steps: unknown[] };
    // $0.03 a step: 0.03, 0.06 > 0.05 → two steps.
    expect(json).toMatchObject({ finish_reason: "budget", budget: "cost" });
    expect(json.steps).toHaveLength(2);
    expect(json.cost_usd).toBeCloseTo(0.06, 6);
  });
});
