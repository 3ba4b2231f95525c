/**
 * Runs that outlive their process, on the compiled binary: background runs answered from any
 * replica, event streams resumed on another replica, cancel from anywhere, and runs continued after
 * `kill -9` (SQLite: the same server restarted; Postgres: another replica), with a tool service
 * that counts its calls so nothing runs twice and nothing is lost.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "bun:test";
import { join } from "node:path";
import { dropDatabases, freshDatabase, testPostgres } from "../helpers/postgres.ts";
import { createTempDirs } from "../helpers/temp-dirs.ts";
import { runSkiff, skiffBinary } from "./binary.ts";
import { config, finished, readEvents, type RunObject, runOf, stepModel, stopStarted, submit, toolService } from "./durable-helpers.ts";
import { startServe, stopAllServes } from "./serve-process.ts";

const pg = await testPostgres();
const { make: tempDir, removeAll: removeTempDirs } = createTempDirs("skiff-durable-");
const slow = 120_000;

beforeAll(async () => {
  await skiffBinary();
}, 120_000);
afterEach(async () => {
  await stopAllServes();
  await stopStarted();
  removeTempDirs();
});
afterAll(() => dropDatabases(pg));

/**
 * A background run of `steps` tool steps on SQLite whose server is killed (SIGKILL) while tool call
 * number `heldCall` is in flight, the calls before it done; a second server on the same database
 * then finishes it. `idempotent` declares the tool so.
 */
async function crashDuringCall(input: string, options: { readonly steps: number; readonly heldCall: number; readonly idempotent: boolean }) {
  const { steps, heldCall, idempotent } = options;
  const dir = tempDir();
  const db = `sqlite:${join(dir, "s.db")}`;
  const tools = toolService();
  const llm = stepModel(steps);
  const args = ["--base-url", llm.url, "--model", "m", "--sessions", db, "--config", config(dir, tools, idempotent), "--run-lease", "1s"];
  const first = await startServe({ args });
  const run = await submit(first, input);
  await tools.reached(heldCall - 1);
  tools.hold();
  await tools.reached(heldCall);
  first.proc.kill("SIGKILL");
  await first.proc.exited;
  tools.release();
  const second = await startServe({ args });
  const done = await finished(second, run.id, 30_000);
  return { tools, llm, run, second, done };
}

describe("durable runs on SQLite (compiled binary)", () => {
  it("answers a background run with 202, then its status and result; streams its events; 404 for an unknown id", async () => {
    const dir = tempDir();
    const tools = toolService();
    const llm = stepModel(2);
    const server = await startServe({ args: ["--base-url", llm.url, "--model", "m", "--sessions", `sqlite:${join(dir, "s.db")}`, "--config", config(dir, tools)] });
    const accepted = await submit(server, "run-1: go");
    expect(accepted.id).toMatch(/^run_/);
    expect(["queued", "running"]).toContain(accepted.status);
    const done = await finished(server, accepted.id, 30_000);
    expect(done.status).toBe("completed");
    expect(done.output).toBe("run-1 finished after 2 tool results");
    expect(done.attempt).toBe(1);
    const events = await readEvents(`${server.url}/v1/runs/${accepted.id}/events`, {});
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
    expect(events.map((e) => e.event)).toEqual([
      "run.started",
      "step.started",
      "model.completed",
      "tool.started",
      "tool.finished",
      "step.started",
      "model.completed",
      "tool.started",
      "tool.finished",
      "step.started",
      "model.completed",
      "run.completed",
    ]);
    expect(events.at(-1)!.data["output"]).toBe("run-1 finished after 2 tool results");
    // Resuming after event 5 gives exactly the rest.
    const rest = await readEvents(`${server.url}/v1/runs/${accepted.id}/events?after=5`, {});
    expect(rest.map((e) => e.id)).toEqual(events.slice(5).map((e) => e.id));
    expect((await fetch(`${server.url}/v1/runs/run_nope`)).status).toBe(404);
    expect((await fetch(`${server.url}/v1/runs/${accepted.id}/events?after=x`)).status).toBe(400);
  }, slow);

  it("continues a run after kill -9 of skiff serve: no finished tool call runs again, the interrupted one is reported", async () => {
    // The third call is held, so the process dies with it in flight.
    const { tools, llm, run, second, done } = await crashDuringCall("run-9: go", { steps: 5, heldCall: 3, idempotent: false });
    expect(done.status).toBe("completed");
    expect(done.attempt).toBe(2);
    expect(done.output).toBe("run-9 finished after 5 tool results");
    // Every call ran once: 1 and 2 before the crash, 3 was in flight (not idempotent: not repeated).
    expect([...tools.calls.values()].every((count) => count === 1)).toBe(true);
    expect(tools.calls.size).toBe(5);
    const outputs = done.steps!.flatMap((step) => step.tool_calls.map((call) => call.output));
    expect(outputs[2]).toContain("interrupted");
    // Model calls: one per step, plus at most the one cut off by the crash.
    expect(llm.chatRequests().length).toBeLessThanOrEqual(6 + 1);
    const events = await readEvents(`${second.url}/v1/runs/${run.id}/events`, {});
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
    expect(events.some((e) => e.event === "run.resumed")).toBe(true);
  }, slow);

  it("re-runs an interrupted call of an idempotent tool after kill -9", async () => {
    const { tools, done } = await crashDuringCall("run-3: go", { steps: 3, heldCall: 2, idempotent: true });
    expect(done.status).toBe("completed");
    expect(tools.calls.get("run-3/2")).toBe(2);
    expect(tools.calls.get("run-3/1")).toBe(1);
    expect(tools.calls.get("run-3/3")).toBe(1);
  }, slow);

  it("lists, shows and cancels runs from the command line, with no server running", async () => {
    const dir = tempDir();
    const db = `sqlite:${join(dir, "s.db")}`;
    const tools = toolService();
    const llm = stepModel(50);
    const server = await startServe({ args: ["--base-url", llm.url, "--model", "m", "--sessions", db, "--config", config(dir, tools), "--max-steps", "60"] });
    const done = await submit(server, "run-l: go", { max_steps: 1 });
    await finished(server, done.id, 10_000);
    tools.hold();
    const running = await submit(server, "run-r: go");
    await tools.reached(2);
    const listed = await runSkiff(["runs", "list", "--sessions", db, "--json"]);
    expect(listed.code).toBe(0);
    const rows = listed.stdout.trim().split("\n").map((line) => JSON.parse(line) as { id: string; status: string });
    expect(rows.map((row) => [row.id, row.status])).toEqual([
      [running.id, "running"],
      [done.id, "completed"],
    ]);
    const table = await runSkiff(["runs", "list", "--sessions", db, "--status", "completed"]);
    expect(table.stdout).toContain(done.id);
    expect(table.stdout).not.toContain(running.id);
    const shown = await runSkiff(["runs", "show", done.id, "--sessions", db, "--json"]);
    expect(JSON.parse(shown.stdout)).toMatchObject({ id: done.id, status: "completed", result: { finish_reason: "max_steps" } });
    const cancelled = await runSkiff(["runs", "cancel", running.id, "--sessions", db]);
    expect(cancelled.stdout).toContain("cancel requested");
    // The server notices the flag at its next lease renewal and stops the held call.
    expect((await finished(server, running.id, 10_000)).status).toBe("cancelled");
    tools.release();
    const missing = await runSkiff(["runs", "show", "run_nope", "--sessions", db]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no run "run_nope"');
    const bad = await runSkiff(["runs", "list", "--sessions", db, "--status", "done"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("is not a run status; use one of queued, running");
  }, slow);

  it("cancels a background run, and a finished run stays as it is", async () => {
    const dir = tempDir();
    const tools = toolService();
    const llm = stepModel(50);
    const server = await startServe({ args: ["--base-url", llm.url, "--model", "m", "--sessions", `sqlite:${join(dir, "s.db")}`, "--config", config(dir, tools), "--max-steps", "60"] });
    tools.hold();
    const run = await submit(server, "run-c: go");
    await tools.reached(1);
    const res = await fetch(`${server.url}/v1/runs/${run.id}/cancel`, { method: "POST" });
    expect([200, 202]).toContain(res.status);
    tools.release();
    const done = await finished(server, run.id, 10_000);
    expect(done.status).toBe("cancelled");
    const again = await fetch(`${server.url}/v1/runs/${run.id}/cancel`, { method: "POST" });
    expect(again.status).toBe(200);
    expect(((await again.json()) as RunObject).status).toBe("cancelled");
    expect((await fetch(`${server.url}/v1/runs/run_unknown/cancel`, { method: "POST" })).status).toBe(404);
  }, slow);
});

describe.skipIf(!pg)("durable runs across replicas on one Postgres (compiled binary)", () => {
  it("finishes 20 background runs after kill -9 of one of 3 replicas: no tool call twice, few model calls repeated", async () => {
    const url = await freshDatabase(pg!);
    const dir = tempDir();
    const tools = toolService(150);
    const llm = stepModel(5);
    const args = ["--base-url", llm.url, "--model", "m", "--sessions", url, "--config", config(dir, tools), "--run-lease", "2s"];
    const replicas = await Promise.all([startServe({ args }), startServe({ args }), startServe({ args })]);
    const runs: RunObject[] = [];
    for (let i = 0; i < 20; i++) runs.push(await submit(replicas[i % 3]!, `run-${i}: go`));
    await tools.reached(30);
    const killedAt = Date.now();
    replicas[0]!.proc.kill("SIGKILL");
    await replicas[0]!.proc.exited;
    const results = await Promise.all(runs.map((run) => finished(replicas[1 + (runs.indexOf(run) % 2)]!, run.id, 2_000 + 30_000)));
    expect(Date.now() - killedAt).toBeLessThan(2_000 + 30_000);
    for (const [i, result] of results.entries()) {
      expect(result.status).toBe("completed");
      expect(result.output).toBe(`run-${i} finished after 5 tool results`);
    }
    // No tool call happened twice.
    expect([...tools.calls.entries()].filter(([, count]) => count > 1)).toEqual([]);
    // Model calls per run <= steps + 2 (6 steps: 5 tool steps and the answer).
    const perRun = new Map<string, number>();
    for (const request of llm.chatRequests()) perRun.set(runOf(request), (perRun.get(runOf(request)) ?? 0) + 1);
    for (const count of perRun.values()) expect(count).toBeLessThanOrEqual(6 + 2);
    expect(results.some((r) => r.attempt === 2)).toBe(true);
  }, slow);

  it("resumes an event stream on another replica with Last-Event-ID: no gap, no repeat, ends with the final event", async () => {
    const url = await freshDatabase(pg!);
    const dir = tempDir();
    const tools = toolService(100);
    const llm = stepModel(4);
    const args = ["--base-url", llm.url, "--model", "m", "--sessions", url, "--config", config(dir, tools)];
    const [a, b] = await Promise.all([startServe({ args }), startServe({ args })]);
    const run = await submit(a!, "run-s: go");
    const head = await readEvents(`${a!.url}/v1/runs/${run.id}/events`, {}, 4);
    const tail = await readEvents(`${b!.url}/v1/runs/${run.id}/events`, { "last-event-id": String(head.at(-1)!.id) });
    const all = [...head, ...tail];
    expect(all.map((e) => e.id)).toEqual(all.map((_, i) => i + 1));
    expect(all.at(-1)!.event).toBe("run.completed");
  }, slow);

  it("cancels through a replica that does not run the run, within 2 s", async () => {
    const url = await freshDatabase(pg!);
    const dir = tempDir();
    const tools = toolService();
    const llm = stepModel(50);
    const args = ["--base-url", llm.url, "--model", "m", "--sessions", url, "--config", config(dir, tools), "--max-steps", "60"];
    const [a, b] = await Promise.all([startServe({ args }), startServe({ args })]);
    tools.hold();
    const run = await submit(a!, "run-x: go");
    await tools.reached(1);
    const asked = Date.now();
    const res = await fetch(`${b!.url}/v1/runs/${run.id}/cancel`, { method: "POST" });
    expect([200, 202]).toContain(res.status);
    const done = await finished(b!, run.id, 5_000);
    expect(done.status).toBe("cancelled");
    expect(Date.now() - asked).toBeLessThan(2_000);
    tools.release();
  }, slow);
});
