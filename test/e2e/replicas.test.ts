/**
 * Two `dist/skiff serve` replicas on one Postgres, as docs/scale.md deploys them: a conversation
 * moves between replicas, concurrent turns never interleave, and a replica killed mid-turn leaves
 * the session consistent for the other.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "bun:test";
import { createFakeOpenAIs, type FakeOpenAI, reply } from "../fakes/fake-openai-server.ts";
import { dropDatabases, freshDatabase, testPostgres } from "../helpers/postgres.ts";
import { cleanEnv, runSkiff, skiffBinary } from "./binary.ts";
import { type ServeProcess, startServe, stopAllServes } from "./serve-process.ts";

const pg = await testPostgres();
const { start: model, stopAll: stopFakes } = createFakeOpenAIs();
const slow = 60_000;

beforeAll(async () => {
  if (pg) await skiffBinary();
}, 120_000);
afterEach(async () => {
  await stopAllServes();
  await stopFakes();
});
afterAll(() => dropDatabases(pg));

interface Session {
  turns: number;
  messages: { role: string; content: string | null }[];
}

/** A database URL with a password in it (the test cluster trusts 127.0.0.1 and ignores it), to show it never leaks. */
async function databaseWithPassword(): Promise<string> {
  const url = new URL(await freshDatabase(pg!));
  url.password = "s3cr3t-pw";
  return url.toString();
}

function replica(url: string, model: FakeOpenAI, extra: string[] = []): Promise<ServeProcess> {
  return startServe({ args: ["--base-url", model.url, "--model", "m", "--sessions", url, ...extra] });
}

const run = (server: ServeProcess, input: string, sessionId = "conv") =>
  fetch(`${server.url}/v1/runs`, { method: "POST", body: JSON.stringify({ input, session_id: sessionId }) });
const session = async (server: ServeProcess, id = "conv") => (await (await fetch(`${server.url}/v1/sessions/${id}`)).json()) as Session;

describe.skipIf(!pg)("skiff serve replicas on one Postgres (compiled binary)", () => {
  it("continues a conversation on another replica, and never logs the database password", async () => {
    const url = await databaseWithPassword();
    const llm = model((request) => reply.text(`answer to ${(request.body?.["messages"] as { content: string }[]).at(-1)!.content}`));
    const [a, b] = await Promise.all([replica(url, llm), replica(url, llm)]);

    expect((await run(a!, "first question")).status).toBe(200);
    const second = await run(b!, "second question");
    expect(second.status).toBe(200);
    // B sent turn 1 back to the model: user + answer of turn 1, then the new question.
    const sent = llm.chatRequests()[1]!.body!["messages"] as { role: string; content: string }[];
    expect(sent.filter((m) => m.role !== "system").map((m) => m.content)).toEqual(["first question", "answer to first question", "second question"]);
    const stored = await session(a!);
    expect(stored.turns).toBe(2);
    expect(stored.messages.map((m) => m.content)).toEqual(["first question", "answer to first question", "second question", "answer to second question"]);

    for (const server of [a!, b!]) {
      const listening = server.logs.find((line) => line["msg"] === "listening")!;
      expect(String(listening["sessions"])).toMatch(/^postgres:\/\/skiff:\*\*\*\*@127\.0\.0\.1:\d+\/skiff_test_/);
      expect(await server.stop()).toBe(0);
      expect(JSON.stringify(server.logs)).not.toContain("s3cr3t-pw");
    }
    const shown = await runSkiff(["config", "show", "--sessions", url]);
    expect(shown.stdout).toContain('server.sessions = "postgres://skiff:****@127.0.0.1');
    expect(shown.stdout + shown.stderr).not.toContain("s3cr3t-pw");
  }, slow);

  it("never interleaves two concurrent turns of one session on two replicas: one is saved, the other gets 409", async () => {
    const url = await freshDatabase(pg!);
    const llm = model((request) => {
      const messages = request.body?.["messages"] as { content: string }[];
      return reply.text(`re: ${messages.at(-1)!.content}`, { delayMs: 400 });
    });
    const [a, b] = await Promise.all([replica(url, llm), replica(url, llm)]);
    expect((await run(a!, "turn 1")).status).toBe(200);

    for (let round = 2; round <= 4; round++) {
      const [ra, rb] = await Promise.all([run(a!, `from A ${round}`), run(b!, `from B ${round}`)]);
      const statuses = [ra.status, rb.status].sort();
      expect(statuses).toEqual([200, 409]);
      const loser = (ra.status === 409 ? ra : rb).json() as Promise<{ error: { type: string; message: string }; partial: { output: string } }>;
      const body = await loser;
      expect(body.error.type).toBe("conflict_error");
      expect(body.error.message).toContain("was changed by another request while this run went on; this turn was not saved");
      expect(body.partial.output).toMatch(/^re: from [AB]/);
      const winner = ra.status === 200 ? "A" : "B";
      const stored = await session(b!);
      expect(stored.turns).toBe(round);
      expect(stored.messages.slice(-2).map((m) => m.content)).toEqual([`from ${winner} ${round}`, `re: from ${winner} ${round}`]);
    }
    expect((await session(a!)).messages).toHaveLength(8);
  }, slow);

  it("leaves the session whole and usable on B when A is killed (kill -9) mid-turn", async () => {
    const url = await freshDatabase(pg!);
    let hung = 0;
    const llmA = model((request, index) => {
      if (index === 0) return reply.text("turn 1 answer");
      hung++;
      return reply.hang();
    });
    const llmB = model(() => reply.text("turn 2 answer from B"));
    const a = await replica(url, llmA);
    const b = await replica(url, llmB);
    expect((await run(a, "turn 1")).status).toBe(200);

    const pending = run(a, "turn 2 on A").catch((error: unknown) => error);
    while (hung === 0) await Bun.sleep(10);
    a.proc.kill("SIGKILL");
    expect(await pending).toBeInstanceOf(Error);
    expect(await a.proc.exited).not.toBe(0);

    const after = await session(b);
    expect(after.turns).toBe(1);
    expect(after.messages.map((m) => m.content)).toEqual(["turn 1", "turn 1 answer"]);
    expect((await run(b, "turn 2 on B")).status).toBe(200);
    const final = await session(b);
    expect(final.turns).toBe(2);
    expect(final.messages.map((m) => m.content)).toEqual(["turn 1", "turn 1 answer", "turn 2 on B", "turn 2 answer from B"]);
  }, slow);

  it("expires idle sessions after session_ttl on every replica's sweep", async () => {
    const url = await freshDatabase(pg!);
    const llm = model(() => reply.text("ok"));
    const a = await replica(url, llm, ["--session-ttl", "2s"]);
    expect((await run(a, "remember me", "short-lived")).status).toBe(200);
    expect((await fetch(`${a.url}/v1/sessions/short-lived`)).status).toBe(200);
    const line = await a.waitForLog((l) => l["msg"] === "sessions expired", 10_000);
    expect(line).toMatchObject({ count: 1, session_ttl_ms: 2_000 });
    expect((await fetch(`${a.url}/v1/sessions/short-lived`)).status).toBe(404);
  }, slow);
});

describe.skipIf(!pg)("skiff serve on a Postgres it cannot use (compiled binary)", () => {
  it("exits 2 naming the store without its password when the server is unreachable", async () => {
    const result = await runSkiff(["serve", "--model", "demo", "--sessions", "postgres://skiff:s3cr3t-pw@127.0.0.1:1/skiff"], { env: cleanEnv() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("skiff: config error: server.sessions: could not open (connect and migrate the schema) in the session database postgres://skiff:****@127.0.0.1:1/skiff");
    expect(result.stderr).not.toContain("s3cr3t-pw");
  }, slow);
});
