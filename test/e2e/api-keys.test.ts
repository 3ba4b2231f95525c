/**
 * API keys on the compiled binary: `skiff keys new` makes a key and its config entry; two
 * `skiff serve` replicas on one Postgres share every key's daily budget; rate and concurrency
 * limits refuse with 429; `tools = []` runs offer the model no tools; SIGHUP revokes a key on
 * every replica; and no key is ever written to a log line, an error, a span or `config show`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createFakeOpenAIs, type FakeOpenAI, reply } from "../fakes/fake-openai-server.ts";
import { type OtlpReceiver, startOtlpReceiver } from "../fakes/otlp-receiver.ts";
import { dropDatabases, freshDatabase, testPostgres } from "../helpers/postgres.ts";
import { createTempDirs } from "../helpers/temp-dirs.ts";
import { cleanEnv, runSkiff, skiffBinary } from "./binary.ts";
import { type ServeProcess, startServe, stopAllServes } from "./serve-process.ts";

const pg = await testPostgres();
const { make: tempDir, removeAll } = createTempDirs("skiff-keys-e2e-");
const { start: model, stopAll: stopFakes } = createFakeOpenAIs();
const receivers: OtlpReceiver[] = [];
const slow = 60_000;

beforeAll(async () => {
  await skiffBinary();
}, 120_000);
afterEach(async () => {
  await stopAllServes();
  await Promise.all([stopFakes(), ...receivers.splice(0).map((r) => r.stop())]);
  removeAll();
});
afterAll(() => dropDatabases(pg));

interface NewKey {
  name: string;
  key: string;
  hash: string;
  toml: string;
}

/** A key made by the binary, as a user makes one. */
async function newKey(name: string): Promise<NewKey> {
  const made = await runSkiff(["keys", "new", name, "--json"]);
  expect(made.code).toBe(0);
  return JSON.parse(made.stdout) as NewKey;
}

/** A config file: the entries `skiff keys new` printed, each followed by its limits. */
function configFile(entries: readonly (readonly [NewKey, string])[]): string {
  const path = join(tempDir(), "skiff.toml");
  writeConfig(path, entries);
  return path;
}

function writeConfig(path: string, entries: readonly (readonly [NewKey, string])[]): void {
  writeFileSync(path, entries.map(([key, limits]) => `${key.toml}${limits}\n`).join("\n"));
}

function serve(config: string, llm: FakeOpenAI, sessions: string, extra: string[] = [], env: Record<string, string> = {}): Promise<ServeProcess> {
  return startServe({ args: ["--config", config, "--base-url", llm.url, "--model", "m", "--sessions", sessions, ...extra], env: cleanEnv(env) });
}

const run = (server: ServeProcess, key: string, body: Record<string, unknown> = { input: "hi" }, signal?: AbortSignal) =>
  fetch(`${server.url}/v1/runs`, { method: "POST", headers: { authorization: `Bearer ${key}` }, body: JSON.stringify(body), ...(signal ? { signal } : {}) });

interface ErrorBody {
  error: { type: string; message: string; param: string | null };
}

describe("skiff keys new (compiled binary)", () => {
  it("prints the key once on stderr and only its [[server.keys]] entry on stdout, which serve accepts", async () => {
    const made = await runSkiff(["keys", "new", "billing-app"]);
    expect(made.code).toBe(0);
    const key = /^(skiff_[A-Za-z0-9_-]{43})$/m.exec(made.stderr)?.[1];
    expect(key).toBeDefined();
    expect(made.stdout).toMatch(/^\[\[server\.keys\]\]\nname = "billing-app"\nhash = "sha256:[0-9a-f]{64}"\n$/);
    expect(made.stdout).not.toContain(key!);
    const config = join(tempDir(), "skiff.toml");
    writeFileSync(config, made.stdout);
    const shown = await runSkiff(["config", "show", "--config", config]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('server.keys = [{"name":"billing-app","hash":"sha256:');
    expect(shown.stdout + shown.stderr).not.toContain(key!);
    expect((await runSkiff(["keys", "new", "no spaces"])).stderr).toContain('"no spaces" cannot name a key');
  }, slow);
});

describe("key limits on one replica (compiled binary, SQLite)", () => {
  it("refuses requests_per_minute and max_concurrent with 429 naming the limit, and runs a tools = [] key with no tools offered", async () => {
    const [limited, solo, bare] = await Promise.all([newKey("limited"), newKey("solo"), newKey("bare")]);
    const config = configFile([
      [limited, "requests_per_minute = 2"],
      [solo, "max_concurrent = 1"],
      [bare, "tools = []"],
    ]);
    let hung = 0;
    const llm = model((request) => {
      const last = (request.body?.["messages"] as { content: string }[]).at(-1)!.content;
      if (last === "hold") {
        hung++;
        return reply.hang();
      }
      return reply.text(`re: ${last}`);
    });
    const server = await serve(config, llm, `sqlite:${join(tempDir(), "skiff.db")}`, ["--tools", "time,calc"]);

    expect((await run(server, limited.key)).status).toBe(200);
    expect((await run(server, limited.key)).status).toBe(200);
    const third = await run(server, limited.key);
    // The minute may turn between requests; then the third is let in and the fourth is the one refused.
    const refused = third.status === 429 ? third : await run(server, limited.key);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeWithin(1, 61);
    expect(((await refused.json()) as ErrorBody).error).toMatchObject({ type: "rate_limit_error", param: "requests_per_minute" });

    const holder = new AbortController();
    const holding = run(server, solo.key, { input: "hold" }, holder.signal).catch(() => undefined);
    for (let i = 0; i < 500 && hung === 0; i++) await Bun.sleep(10);
    expect(hung).toBe(1);
    const busy = await run(server, solo.key);
    expect(busy.status).toBe(429);
    expect(busy.headers.get("retry-after")).toBe("1");
    expect(((await busy.json()) as ErrorBody).error.param).toBe("max_concurrent");
    holder.abort();
    await holding;
    // The slot is free once the aborted run's request is logged (499).
    await server.waitForLog((line) => line["status"] === 499 && line["key"] === "solo");
    expect((await run(server, solo.key)).status).toBe(200);

    expect((await run(server, bare.key, { input: "no tools" })).status).toBe(200);
    const sent = llm.chatRequests().find((request) => (request.body?.["messages"] as { content: string }[]).at(-1)!.content === "no tools")!;
    expect(sent.body?.["tools"]).toBeUndefined();
    const withTools = llm.chatRequests()[0]!;
    expect((withTools.body?.["tools"] as { function: { name: string } }[]).map((tool) => tool.function.name)).toEqual(["time", "calc"]);
    expect(await server.stop()).toBe(0);
  }, slow);
});

describe.skipIf(!pg)("keys across two replicas on one Postgres (compiled binary)", () => {
  it("refuses a key with 429 and Retry-After once its tokens_per_day is spent across both replicas, while another key keeps working", async () => {
    const url = await freshDatabase(pg!);
    const [metered, free] = await Promise.all([newKey("metered"), newKey("free")]);
    const config = configFile([
      [metered, "tokens_per_day = 100"],
      [free, ""],
    ]);
    const llm = model(() => reply.text("ok", { usage: { prompt_tokens: 40, completion_tokens: 20 } }));
    const [a, b] = await Promise.all([serve(config, llm, url), serve(config, llm, url)]);

    expect((await run(a!, metered.key)).status).toBe(200);
    // 60 of 100 counted in the database: replica B sees them, lets the key in, and counts 60 more.
    expect((await run(b!, metered.key)).status).toBe(200);
    for (const server of [a!, b!]) {
      const refused = await run(server, metered.key);
      expect(refused.status).toBe(429);
      const retryAfter = Number(refused.headers.get("retry-after"));
      expect(retryAfter).toBeWithin(1, 86_401);
      const body = (await refused.json()) as ErrorBody;
      expect(body.error).toMatchObject({ type: "rate_limit_error", param: "tokens_per_day" });
      expect(body.error.message).toContain('key "metered" has used its tokens_per_day (100 tokens; 120 used today, UTC)');
      expect((await run(server, free.key)).status).toBe(200);
    }
    const usage = (await (await fetch(`${b!.url}/v1/usage?days=1`, { headers: { authorization: `Bearer ${metered.key}` } })).json()) as {
      keys: { key: string; days: { runs: number; input_tokens: number; output_tokens: number }[] }[];
    };
    expect(usage.keys).toHaveLength(1);
    expect(usage.keys[0]!.key).toBe("metered");
    expect(usage.keys[0]!.days[0]).toMatchObject({ runs: 2, input_tokens: 80, output_tokens: 40 });
  }, slow);

  it("revokes a key removed from the config on both replicas within a second of SIGHUP, keeps the others, and keeps the old keys when the new config is broken", async () => {
    const url = await freshDatabase(pg!);
    const [gone, stays] = await Promise.all([newKey("gone"), newKey("stays")]);
    const config = configFile([
      [gone, ""],
      [stays, ""],
    ]);
    const llm = model(() => reply.text("ok"));
    const replicas = await Promise.all([serve(config, llm, url), serve(config, llm, url)]);
    for (const server of replicas) expect((await run(server, gone.key)).status).toBe(200);

    writeFileSync(config, "[[server.keys]]\nname = \n");
    for (const server of replicas) {
      server.proc.kill("SIGHUP");
      const failed = await server.waitForLog((line) => line["msg"] === "reload failed; the keys and token in use stay");
      expect(String(failed["reason"])).toContain("not valid TOML");
      expect((await run(server, gone.key)).status).toBe(200);
    }

    writeConfig(config, [[stays, ""]]);
    const signalled = performance.now();
    for (const server of replicas) server.proc.kill("SIGHUP");
    for (const server of replicas) {
      const reloaded = await server.waitForLog((line) => line["msg"] === "keys reloaded", 1_000);
      expect(reloaded).toMatchObject({ keys: 1, removed: "gone" });
      const refused = await run(server, gone.key);
      expect(refused.status).toBe(401);
      expect((await run(server, stays.key)).status).toBe(200);
    }
    expect(performance.now() - signalled).toBeLessThan(1_000);
    for (const server of replicas) expect(await server.stop()).toBe(0);
  }, slow);
});

describe("no key in logs, errors, spans or config show (compiled binary)", () => {
  it("names keys by name only, everywhere", async () => {
    const otlp = await startOtlpReceiver();
    receivers.push(otlp);
    const [app, capped] = await Promise.all([newKey("app"), newKey("capped")]);
    const config = configFile([
      [app, ""],
      [capped, "tokens_per_day = 1"],
    ]);
    const llm = model(() => reply.text("ok"));
    const server = await serve(config, llm, "memory", ["--otlp-endpoint", otlp.url]);
    const bodies: string[] = [];
    for (const [key, path] of [
      [app.key, "/v1/runs"],
      [capped.key, "/v1/runs"],
      [capped.key, "/v1/runs"],
      [`${app.key}x`, "/v1/runs"],
      [app.key, "/v1/usage"],
    ] as const) {
      const response = await fetch(`${server.url}${path}`, {
        method: path === "/v1/runs" ? "POST" : "GET",
        headers: { authorization: `Bearer ${key}` },
        ...(path === "/v1/runs" ? { body: '{"input":"hi"}' } : {}),
      });
      bodies.push(`${response.status} ${await response.text()}`);
    }
    expect(bodies.map((body) => body.slice(0, 3))).toEqual(["200", "200", "429", "401", "200"]);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain('skiff_runs_total{key="app",outcome="completed"} 1');
    expect(await server.stop()).toBe(0);
    const spans = otlp.spans();
    expect(spans.filter((span) => span.attributes["skiff.key.name"] !== undefined).map((span) => span.attributes["skiff.key.name"]).sort()).toEqual(["app", "capped"]);
    const shown = await runSkiff(["config", "show", "--config", config]);
    const everything = [JSON.stringify(server.logs), bodies.join("\n"), JSON.stringify(spans, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v)), metrics, shown.stdout, shown.stderr].join("\n");
    for (const key of [app.key, capped.key]) expect(everything).not.toContain(key);
    expect(server.logs.filter((line) => line["msg"] === "request" && line["route"] !== "/metrics").map((line) => line["key"])).toEqual(["app", "capped", "capped", undefined, "app"]);
  }, slow);
});
