import { afterAll, afterEach, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SessionStore } from "../../src/sessions/index.ts";
import { createPostgresSessionStore } from "../../src/sessions/postgres.ts";
import { createSqliteSessionStore } from "../../src/sessions/sqlite.ts";
import { dropDatabases, freshDatabase, testPostgres } from "../helpers/postgres.ts";

const pg = await testPostgres();
afterAll(() => dropDatabases(pg));
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const script = join(import.meta.dir, "../fixtures/commit-forever.ts");

/** Starts the committer, lets it run `ms` after its first commit, then kill -9s it. */
async function commitThenKill(target: string, ms: number): Promise<void> {
  const child = Bun.spawn([process.execPath, script, target], { stdout: "pipe", stderr: "pipe" });
  const reader = child.stdout.getReader();
  const first = await reader.read();
  if (!new TextDecoder().decode(first.value).includes("committing")) {
    throw new Error(`the committer did not start: ${await new Response(child.stderr).text()}`);
  }
  await Bun.sleep(ms);
  child.kill("SIGKILL");
  expect(await child.exited).not.toBe(0);
  expect(child.signalCode).toBe("SIGKILL");
}

/** Every session holds whole turns 1..version, in order: nothing half-written, nothing lost. */
async function expectWholeTurns(store: SessionStore): Promise<number> {
  let turns = 0;
  for (let k = 0; k < 4; k++) {
    const session = await store.get(`s${k}`);
    if (!session) continue;
    expect(session.messages).toHaveLength(3 * session.version);
    session.messages.forEach((message, i) => {
      const n = Math.floor(i / 3) + 1;
      expect(message.role).toBe(["user", "assistant", "tool"][i % 3] as "user");
      expect(JSON.stringify(message)).toContain(i % 3 === 1 ? `"c${n}"` : i % 3 === 0 ? `"q${n}"` : `"r${n}"`);
    });
    turns += session.version;
  }
  return turns;
}

describe("a process killed mid-commit (kill -9)", () => {
  it("leaves a SQLite store with whole turns only, and writable", async () => {
    const dir = mkdtempSync(join(tmpdir(), "skiff-crash-"));
    dirs.push(dir);
    const path = join(dir, "s.db");
    await commitThenKill(`sqlite:${path}`, 400);
    const store = createSqliteSessionStore(path);
    const turns = await expectWholeTurns(store);
    console.log(`sqlite: ${turns} whole turns committed before kill -9`);
    expect(turns).toBeGreaterThan(0);
    const version = (await store.get("s0"))!.version;
    expect(await store.commitTurn("s0", { expectedVersion: version, messages: [{ role: "user", content: "after" }], maxMessages: 1_000_000 })).toEqual({
      ok: true,
      version: version + 1,
    });
    await store.close();
  }, 30_000);

  it.skipIf(!pg)("leaves a Postgres store with whole turns only, and writable", async () => {
    const url = await freshDatabase(pg!);
    await commitThenKill(url, 400);
    const store = await createPostgresSessionStore(url);
    const turns = await expectWholeTurns(store);
    console.log(`postgres: ${turns} whole turns committed before kill -9`);
    expect(turns).toBeGreaterThan(0);
    const version = (await store.get("s1"))!.version;
    expect((await store.commitTurn("s1", { expectedVersion: version, messages: [{ role: "user", content: "after" }], maxMessages: 1_000_000 })).ok).toBe(true);
    await store.close();
  }, 30_000);
});
