import { afterEach, beforeAll, describe, expect, it } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import OpenAI from "openai";
import { createFakeOpenAIs, reply } from "../fakes/fake-openai-server.ts";
import { parseSse } from "../server/helpers.ts";
import { cleanEnv, runSkiff, skiffBinary } from "./binary.ts";
import { startServe, stopAllServes } from "./serve-process.ts";
import { createTempDirs } from "../helpers/temp-dirs.ts";

const token = "e2e-token-0123456789abcdef";
const auth = { authorization: `Bearer ${token}` };
const { start: fake, stopAll: stopFakes } = createFakeOpenAIs();
const { make: tempDir, removeAll: removeTempDirs } = createTempDirs("skiff-serve-e2e-");
const stoppers: (() => void)[] = [];

beforeAll(async () => {
  await skiffBinary();
}, 120_000);

afterEach(async () => {
  await stopAllServes();
  await stopFakes();
  for (const stop of stoppers.splice(0)) stop();
  removeTempDirs();
});

/** A model endpoint that never answers and counts the requests its clients abandon. */
function hangingModel() {
  const state = { started: 0, aborted: 0 };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    fetch(req) {
      state.started++;
      return new Promise<Response>((resolve) => {
        req.signal.addEventListener("abort", () => {
          state.aborted++;
          resolve(new Response(null, { status: 499 }));
        });
      });
    },
  });
  stoppers.push(() => void server.stop(true));
  return { url: `http://127.0.0.1:${server.port}/v1`, state };
}

async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await Bun.sleep(25);
  }
}

/** Generous: a 2-core machine runs other test files at the same time. */
const slow = 60_000;

describe("skiff serve (compiled binary)", () => {
  it("answers the README's curl, streams events, keeps sessions, and logs one JSON line per request", async () => {
    const dir = tempDir();
    const server = await startServe({ args: ["--model", "demo", "--sessions", `sqlite:${join(dir, "s.db")}`], env: cleanEnv({ SKIFF_AUTH_TOKEN: token }) });
    // curl -d sends form-urlencoded; the service reads JSON anyway.
    const res = await fetch(`${server.url}/v1/runs`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/x-www-form-urlencoded" },
      body: '{"input":"What time is it in Tokyo?","session_id":"tokyo"}',
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { output: string; session_id: string; finish_reason: string };
    expect(body.output).toMatch(/^In Tokyo it is \d\d:\d\d/);
    expect(body.session_id).toBe("tokyo");

    const stream = await fetch(`${server.url}/v1/runs`, { method: "POST", headers: auth, body: JSON.stringify({ input: "and 2*21?", stream: true }) });
    expect(stream.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const events = parseSse(await stream.text());
    expect(events[0]!.event).toBe("run.started");
    expect(events.at(-1)!.event).toBe("run.completed");
    expect(JSON.parse(events.at(-1)!.data).output).toBe("2*21 = 42.");

    const session = (await (await fetch(`${server.url}/v1/sessions/tokyo`, { headers: auth })).json()) as { turns: number };
    expect(session.turns).toBe(1);
    expect((await fetch(`${server.url}/v1/runs`, { method: "POST", body: '{"input":"hi"}' })).status).toBe(401);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain('skiff_runs_total{outcome="completed"} 2');
    expect(metrics).toContain('gen_ai_invoke_agent_duration_seconds_count{gen_ai_agent_name="skiff",gen_ai_request_model="demo"} 2\n');
    expect(metrics).toMatch(/gen_ai_execute_tool_duration_seconds_count\{gen_ai_agent_name="skiff",gen_ai_tool_name="calc",gen_ai_tool_type="function"\} [12]\n/);

    expect(await server.stop()).toBe(0);
    // The accept queue is raised from Bun's 512 to the system's maximum (Linux).
    const somaxconn = Number(readFileSync("/proc/sys/net/core/somaxconn", "utf8").trim());
    expect(server.logs.find((l) => l["msg"] === "listening")?.["backlog"]).toBe(Math.max(somaxconn, 512));
    const requests = server.logs.filter((l) => l["msg"] === "request");
    expect(requests.map((l) => `${l["method"]} ${l["route"]} ${l["status"]}`)).toEqual([
      "POST /v1/runs 200",
      "POST /v1/runs 200",
      "GET /v1/sessions/{id} 200",
      "POST /v1/runs 401",
      "GET /healthz 200",
      "GET /metrics 200",
    ]);
    for (const line of requests) expect(typeof line["duration_ms"]).toBe("number");
    const stderr = JSON.stringify(server.logs);
    expect(stderr).not.toContain(token);
    expect(stderr).not.toContain("Tokyo");
  }, slow);

  it("refuses to listen beyond loopback without a token, and with a short token", async () => {
    const open = await runSkiff(["serve", "--model", "demo", "--listen", "0.0.0.0:0"], { timeoutMs: 10_000 });
    expect(open.code).toBe(2);
    expect(open.stderr).toContain("skiff: config error: server.listen: listening on 0.0.0.0 would expose the API to the network without authentication");
    const dir = tempDir();
    writeFileSync(join(dir, "token"), "short\n");
    const short = await runSkiff(["serve", "--model", "demo", "--listen", "0.0.0.0:0", "--auth-token-file", join(dir, "token")], { timeoutMs: 10_000 });
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/is 5 characters long; use at least 16/);
    expect(short.stderr).not.toContain("short\n");
  }, slow);

  it("answers 413 for bodies over max_body, declared or streamed, and 400/404/405 in the one error shape", async () => {
    const server = await startServe({ args: ["--model", "demo", "--sessions", "memory", "--max-body", "64KiB"] });
    const declared = await fetch(`${server.url}/v1/runs`, { method: "POST", body: JSON.stringify({ input: "x".repeat(200_000) }) });
    expect(declared.status).toBe(413);
    expect(((await declared.json()) as { error: { type: string } }).error.type).toBe("request_too_large");
    let sent = 0;
    const chunked = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent >= 50 * 1024 * 1024) return controller.close();
        sent += 64 * 1024;
        controller.enqueue(new Uint8Array(64 * 1024).fill(32));
        await Bun.sleep(1);
      },
    });
    const streamed = await fetch(`${server.url}/v1/runs`, { method: "POST", body: chunked, duplex: "half" } as RequestInit).catch((e: unknown) => e);
    // The server answers 413 as soon as the limit is crossed; it never reads the 50 MiB.
    if (streamed instanceof Response) expect(streamed.status).toBe(413);
    expect(sent).toBeLessThan(50 * 1024 * 1024);
    const bad = await fetch(`${server.url}/v1/runs`, { method: "POST", body: '{"input":"hi","max_steps":"many"}' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: { type: "invalid_request_error", message: "max_steps: Invalid input: expected number, received string", param: "max_steps" } });
    expect((await fetch(`${server.url}/v1/nope`)).status).toBe(404);
    expect((await fetch(`${server.url}/v1/runs`, { method: "PUT" })).status).toBe(405);
    // The server still serves after all that.
    expect((await fetch(`${server.url}/v1/runs`, { method: "POST", body: '{"input":"what is 1+1?"}' })).status).toBe(200);
  }, slow);

  it("runs 200 concurrent requests against the demo model, all successfully", async () => {
    const server = await startServe({ args: ["--model", "demo", "--sessions", "memory"] });
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        fetch(`${server.url}/v1/runs`, { method: "POST", body: JSON.stringify({ input: `what is ${i}+1?` }) }).then(async (r) => ({
          status: r.status,
          output: ((await r.json()) as { output: string }).output,
        })),
      ),
    );
    const ms = performance.now() - started;
    expect(results.every((r, i) => r.status === 200 && r.output === `${i}+1 = ${i + 1}.`)).toBe(true);
    console.log(`200 concurrent demo runs over HTTP: ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(20_000);
    const rss = Number(/process_resident_memory_bytes (\d+)/.exec(await (await fetch(`${server.url}/metrics`)).text())![1]);
    console.log(`RSS after 200 runs: ${(rss / 1024 / 1024).toFixed(1)} MiB`);
  }, slow);

  it("refuses runs over max_concurrent with 429 and Retry-After, and serves the rest", async () => {
    const model = fake(() => reply.text("done", { delayMs: 2_000 }));
    const server = await startServe({ args: ["--base-url", model.url, "--model", "m", "--sessions", "memory", "--max-concurrent", "20"] });
    const responses = await Promise.all(
      Array.from({ length: 60 }, () => fetch(`${server.url}/v1/runs`, { method: "POST", body: '{"input":"hi"}' })),
    );
    const ok = responses.filter((r) => r.status === 200);
    const refused = responses.filter((r) => r.status === 429);
    expect(ok).toHaveLength(20);
    expect(refused).toHaveLength(40);
    expect(refused.every((r) => r.headers.get("retry-after") === "1")).toBe(true);
    const error = (await refused[0]!.json()) as { error: { type: string } };
    expect(error.error.type).toBe("rate_limit_error");
  }, slow);

  it("serves an OpenAI SDK client on /v1/chat/completions, streaming and not", async () => {
    const server = await startServe({ args: ["--model", "demo", "--sessions", "memory"], env: cleanEnv({ SKIFF_AUTH_TOKEN: token }) });
    const client = new OpenAI({ apiKey: token, baseURL: `${server.url}/v1`, maxRetries: 0 });
    const completion = await client.chat.completions.create({ model: "skiff", messages: [{ role: "user", content: "What is 6*7?" }] });
    expect(completion.choices[0]!.message.content).toBe("6*7 = 42.");
    const stream = await client.chat.completions.create({ model: "skiff", messages: [{ role: "user", content: "What is 6*7?" }], stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe("6*7 = 42.");
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(["skiff"]);
  }, slow);

  it("aborts the model request when a streaming client disconnects", async () => {
    const model = hangingModel();
    const server = await startServe({ args: ["--base-url", model.url, "--model", "m", "--sessions", "memory"] });
    const client = new AbortController();
    const res = await fetch(`${server.url}/v1/runs`, { method: "POST", body: '{"input":"hi","stream":true}', signal: client.signal });
    const reader = res.body!.getReader();
    await reader.read();
    await waitUntil(() => model.state.started === 1, 10_000, "the model request");
    client.abort();
    await waitUntil(() => model.state.aborted === 1, 10_000, "the model request to be aborted");
    const line = await server.waitForLog((l) => l["msg"] === "request" && l["route"] === "/v1/runs");
    expect(line["outcome"]).toBe("cancelled");
    expect(await (await fetch(`${server.url}/readyz`)).json()).toEqual({ status: "ready", runs_in_flight: 0 });
  }, slow);

  it("kills a command tool's process when the client of a plain request disconnects", async () => {
    const marker = "31.4159";
    const dir = tempDir();
    writeFileSync(
      join(dir, "skiff.toml"),
      `[[tools.command]]\nname = "nap"\ndescription = "Sleeps"\nargv = ["/bin/sleep", "${marker}"]\n`,
    );
    const model = fake([reply.toolCalls([{ name: "nap", arguments: "{}" }]), reply.hang()]);
    const server = await startServe({ args: ["--base-url", model.url, "--model", "m", "--sessions", "memory"], cwd: dir });
    const client = new AbortController();
    const pending = fetch(`${server.url}/v1/runs`, { method: "POST", body: '{"input":"nap"}', signal: client.signal }).catch(() => "aborted");
    const sleeping = () => sleepers(marker).length > 0;
    await waitUntil(sleeping, 10_000, "the tool's process to start");
    client.abort();
    expect(await pending).toBe("aborted");
    await waitUntil(() => !sleeping(), 10_000, "the tool's process to be killed");
    const line = await server.waitForLog((l) => l["msg"] === "request");
    expect(line).toMatchObject({ route: "/v1/runs", status: 499, outcome: "cancelled" });
  }, slow);
});

/** Pids of live `sleep <marker>` processes. */
function sleepers(marker: string): number[] {
  const out = Bun.spawnSync(["ps", "-eo", "pid=,stat=,args="]).stdout.toString();
  return out
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols[1] !== undefined && !cols[1].startsWith("Z") && cols[2] === "/bin/sleep" && cols[3] === marker)
    .map((cols) => Number(cols[0]));
}

