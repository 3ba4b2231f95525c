/**
 * Approvals across restarts on the compiled binary: a run on one Postgres pauses with two pending
 * calls, every replica restarts, the decisions arrive through another replica, and the run ends
 * with exactly the approved call made and the denial's reason told to the model.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "bun:test";
import { createFakeOpenAIs, type FakeOpenAI, reply } from "../fakes/fake-openai-server.ts";
import { dropDatabases, freshDatabase, testPostgres } from "../helpers/postgres.ts";
import { createTempDirs } from "../helpers/temp-dirs.ts";
import { skiffBinary } from "./binary.ts";
import { config, finished, getRun, runOf, stopStarted, submit, toolService } from "./durable-helpers.ts";
import { type ServeProcess, startServe, stopAllServes } from "./serve-process.ts";

const pg = await testPostgres();
const { make: tempDir, removeAll } = createTempDirs("skiff-approvals-");
const { start: startModel, stopAll: stopModels } = createFakeOpenAIs();

beforeAll(async () => {
  await skiffBinary();
}, 120_000);
afterEach(async () => {
  await stopAllServes();
  await stopStarted();
  await stopModels();
  removeAll();
});
afterAll(() => dropDatabases(pg));

/** Two calls of `count` in one step, then an answer quoting what the tools said. */
function twoCallModel(): FakeOpenAI {
  return startModel((request) => {
    const messages = request.body?.["messages"] as { role: string; content: string }[];
    const results = messages.filter((m) => m.role === "tool").map((m) => m.content);
    if (results.length === 0) {
      const run = runOf(request);
      return reply.toolCalls([
        { id: "c1", name: "count", arguments: JSON.stringify({ run, n: 1 }) },
        { id: "c2", name: "count", arguments: JSON.stringify({ run, n: 2 }) },
      ]);
    }
    return reply.text(`results: ${results.join(" | ")}`);
  });
}

async function untilStatus(server: ServeProcess, id: string, status: string, limitMs: number) {
  const until = Date.now() + limitMs;
  for (;;) {
    const run = await getRun(server, id);
    if (run.status === status) return run;
    if (Date.now() > until) throw new Error(`run ${id} is ${run.status}, not ${status}, after ${limitMs} ms`);
    await Bun.sleep(50);
  }
}

describe.skipIf(!pg)("approvals across replicas and restarts (compiled binary, Postgres)", () => {
  it("keeps a pending approval across a restart of every replica; decisions through another replica finish the run", async () => {
    const url = await freshDatabase(pg!);
    const dir = tempDir();
    const tools = toolService();
    const llm = twoCallModel();
    const args = ["--base-url", llm.url, "--model", "m", "--sessions", url, "--config", config(dir, tools), "--require-approval", "count"];
    const [a, b] = await Promise.all([startServe({ args }), startServe({ args })]);
    const run = await submit(a!, "run-ap: write");
    const paused = (await untilStatus(b!, run.id, "requires_action", 20_000)) as unknown as { pending_approvals: { call_id: string; tool: string }[] };
    expect(paused.pending_approvals.map((p) => [p.call_id, p.tool])).toEqual([
      ["c1", "count"],
      ["c2", "count"],
    ]);
    expect(tools.total()).toBe(0);

    // Every replica restarts: nothing of the run is in any process now.
    expect(await a!.stop()).toBe(0);
    expect(await b!.stop()).toBe(0);
    const [c, d] = await Promise.all([startServe({ args }), startServe({ args })]);
    expect((await getRun(c!, run.id)).status).toBe("requires_action");

    const res = await fetch(`${d!.url}/v1/runs/${run.id}/approvals`, {
      method: "POST",
      body: JSON.stringify({ decisions: [{ call_id: "c1", approve: true }, { call_id: "c2", approve: false, reason: "counting twice is wasteful" }] }),
    });
    expect(res.status).toBe(200);
    const done = await finished(c!, run.id, 20_000);
    expect(done.status).toBe("completed");
    expect(tools.total()).toBe(1);
    expect(tools.calls.get("run-ap/1")).toBe(1);
    expect(done.output).toContain("a person denied this call: counting twice is wasteful");
    const again = await fetch(`${c!.url}/v1/runs/${run.id}/approvals`, { method: "POST", body: JSON.stringify({ decisions: [{ call_id: "c1", approve: true }] }) });
    expect(again.status).toBe(409);
  }, 120_000);
});
