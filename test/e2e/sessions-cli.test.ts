/** `skiff sessions export|import` and schema upgrades, on the compiled binary. */
import { Database } from "bun:sqlite";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { dropDatabases, freshDatabase, testPostgres } from "../helpers/postgres.ts";
import { runSkiff, skiffBinary } from "./binary.ts";
import { createTempDirs } from "../helpers/temp-dirs.ts";

const pg = await testPostgres();
const fixtures = join(import.meta.dir, "../fixtures");
const expectedExport = readFileSync(join(fixtures, "sessions-export.jsonl"), "utf8");
const { make: tempDir, removeAll: removeTempDirs } = createTempDirs("skiff-sessions-cli-");
const slow = 60_000;

beforeAll(async () => {
  await skiffBinary();
}, 120_000);
afterEach(() => {
  removeTempDirs();
});
afterAll(() => dropDatabases(pg));

/** A SQLite file as skiff's first schema wrote it. */
function v1File(dir: string): string {
  const path = join(dir, "old.db");
  const db = new Database(path);
  db.exec(readFileSync(join(fixtures, "sessions-v1.sql"), "utf8"));
  db.close();
  return path;
}

describe("skiff sessions (compiled binary)", () => {
  it("upgrades a schema-1 file on open, once, however many processes open it at the same time, and exports every message", async () => {
    const path = v1File(tempDir());
    const results = await Promise.all(Array.from({ length: 3 }, () => runSkiff(["sessions", "export", "--sessions", `sqlite:${path}`])));
    for (const result of results) {
      expect(result.stderr).toBe(`exported 3 sessions from sqlite:${path}\n`);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(expectedExport);
    }
    const db = new Database(path, { readonly: true });
    expect(db.query("SELECT version FROM schema_version ORDER BY version").all()).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }]);
    db.close();
  }, slow);

  it("imports into an empty store, refuses to overwrite without --replace, and replaces with it", async () => {
    const dir = tempDir();
    const input = join(dir, "in.jsonl");
    writeFileSync(input, expectedExport);
    const store = ["--sessions", `sqlite:${join(dir, "new.db")}`];

    const first = await runSkiff(["sessions", "import", input, ...store]);
    expect(first.stderr).toBe(`imported 3 sessions into sqlite:${join(dir, "new.db")}\n`);
    expect(first.code).toBe(0);

    const again = await runSkiff(["sessions", "import", input, ...store]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(
      `skiff: error: ${input} line 1: session "chat-7" already exists in sqlite:${join(dir, "new.db")}; nothing was imported. Pass --replace to overwrite existing sessions with the imported ones\n`,
    );

    const replaced = await runSkiff(["sessions", "import", "-", "--replace", ...store], { stdin: expectedExport });
    expect(replaced.stderr).toBe(`imported 3 sessions (3 replaced) into sqlite:${join(dir, "new.db")}\n`);

    const out = join(dir, "backup.jsonl");
    const exported = await runSkiff(["sessions", "export", "--output", out, ...store]);
    expect(exported.code).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(expectedExport);
    // Conversations are private: the backup is readable by its owner only, and no partial file is left.
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).filter((name) => name.includes(".partial-"))).toEqual([]);
  }, slow);

  it("names the line and field of a bad input, and imports nothing from it", async () => {
    const dir = tempDir();
    const lines = expectedExport.trim().split("\n");
    const cases: [string, string][] = [
      [`${lines[0]}\n{"id":"x"`, "line 2: not JSON"],
      [`${lines[0]}\n${lines[1]!.replace('"role":"tool"', '"role":"system"')}`, 'line 2: messages[2].role: expected "user", "assistant" or "tool" (sessions do not store system messages)'],
      [`${lines[0]}\n\n${lines[0]}`, 'line 3: session "chat-7" appears a second time (first on line 1)'],
      [lines[2]!.replace('"version":5', '"version":"five"'), "line 1: version: Invalid input: expected number, received string"],
    ];
    for (const [text, message] of cases) {
      const db = join(dir, "t.db");
      const result = await runSkiff(["sessions", "import", "--sessions", `sqlite:${db}`], { stdin: text });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`skiff: error: stdin ${message}`);
      expect(result.stderr).toContain("nothing was imported");
      const count = new Database(db, { readonly: true });
      expect(count.query("SELECT count(*) AS n FROM sessions").get()).toEqual({ n: 0 });
      count.close();
    }
  }, slow);

  it("says what is wrong with the command line", async () => {
    const none = await runSkiff(["sessions"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe("skiff: usage: sessions needs a subcommand: export or import\n");
    const missing = await runSkiff(["sessions", "import", "/nonexistent/sessions.jsonl", "--sessions", "memory"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("no file /nonexistent/sessions.jsonl to import");
    const empty = tempDir();
    const noStore = await runSkiff(["sessions", "export"], { cwd: empty });
    expect(noStore.code).toBe(2);
    expect(noStore.stderr).toBe(`skiff: usage: there is no session database at ${join(empty, "skiff.db")} to export; name the store with --sessions (sqlite:PATH or postgres://…)\n`);
    expect(existsSync(join(empty, "skiff.db"))).toBe(false);
    const badOutput = await runSkiff(["sessions", "export", "--output", "/nonexistent/dir/x.jsonl", "--sessions", "memory"]);
    expect(badOutput.code).toBe(2);
    expect(badOutput.stderr).toContain("cannot write /nonexistent/dir/x.jsonl: its directory does not exist");
  }, slow);

  it("refuses to serve a file a newer skiff migrated, naming both schema versions", async () => {
    const path = join(tempDir(), "future.db");
    const db = new Database(path);
    db.exec("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT");
    db.exec("INSERT INTO schema_version VALUES (1, 'a', 0), (2, 'b', 0), (3, 'c', 0), (4, 'd', 0), (5, 'e', 0)");
    db.close();
    const result = await runSkiff(["serve", "--model", "demo", "--listen", "127.0.0.1:0", "--sessions", `sqlite:${path}`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `skiff: config error: server.sessions: the session database ${path} has schema version 5, but this skiff only knows versions up to 4`,
    );
  }, slow);

  it.skipIf(!pg)("moves sessions from SQLite to Postgres unchanged", async () => {
    const dir = tempDir();
    const sqlite = v1File(dir);
    const exported = await runSkiff(["sessions", "export", "--sessions", `sqlite:${sqlite}`]);
    const url = await freshDatabase(pg!);
    const imported = await runSkiff(["sessions", "import", "--sessions", url], { stdin: exported.stdout });
    expect(imported.stderr).toMatch(/^imported 3 sessions into postgres:\/\//);
    const back = await runSkiff(["sessions", "export", "--sessions", url]);
    expect(back.stdout).toBe(expectedExport);
    expect(existsSync(sqlite)).toBe(true);
  }, slow);
});
