/**
 * Session store latency: one turn's commit (4 messages, appended to a growing history trimmed at
 * 200 messages), one session read, and commits per second with 32 writers, on SQLite (a temp file,
 * WAL) and on Postgres. Writes bench/results/sessions.json.
 *
 *   bun bench/session-store.ts                   Postgres from $BENCH_POSTGRES_URL (a database it may
 *                                                fill), else the test helper's throwaway cluster
 *                                                (fsync off: faster than a real server; the JSON says so)
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Message } from "../src/model/messages.ts";
import type { SessionStore } from "../src/sessions/index.ts";
import { createPostgresSessionStore } from "../src/sessions/postgres.ts";
import { createSqliteSessionStore } from "../src/sessions/sqlite.ts";
import { dropDatabases, freshDatabase, testPostgres } from "../test/helpers/postgres.ts";
import { percentile } from "./proc.ts";

const turn = (n: number): Message[] => [
  { role: "user", content: `question ${n}: what is ${n}*${n}?` },
  { role: "assistant", content: null, tool_calls: [{ id: `call_${n}`, name: "calc", arguments: `{"expression":"${n}*${n}"}` }] },
  { role: "tool", tool_call_id: `call_${n}`, content: `{"result":${n * n}}` },
  { role: "assistant", content: `${n}*${n} = ${n * n}.` },
];

const round = (ms: number) => Math.round(ms * 1000) / 1000;

async function measure(store: SessionStore) {
  const sessions = 50;
  const turnsEach = 40;
  const versions = new Array<number>(sessions).fill(0);
  const commits: number[] = [];
  for (let t = 0; t < turnsEach; t++) {
    for (let s = 0; s < sessions; s++) {
      const started = performance.now();
      const saved = await store.commitTurn(`s${s}`, { expectedVersion: versions[s]!, messages: turn(t), maxMessages: 200 });
      commits.push(performance.now() - started);
      if (!saved.ok) throw new Error("conflict in a sequential benchmark");
      versions[s] = saved.version;
    }
  }
  const reads: number[] = [];
  for (let i = 0; i < 500; i++) {
    const started = performance.now();
    await store.get(`s${i % sessions}`);
    reads.push(performance.now() - started);
  }
  // 32 writers, each on its own session, for a fixed number of turns.
  const writers = 32;
  const perWriter = 50;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let t = 0; t < perWriter; t++) {
        const saved = await store.commitTurn(`w${w}`, { expectedVersion: t, messages: turn(t), maxMessages: 200 });
        if (!saved.ok) throw new Error("conflict");
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
  const c = sorted(commits);
  const r = sorted(reads);
  return {
    commit_ms_p50: round(percentile(c, 50)),
    commit_ms_p99: round(percentile(c, 99)),
    commit_ms_mean: round(commits.reduce((a, b) => a + b, 0) / commits.length),
    commits: commits.length,
    get_ms_p50: round(percentile(r, 50)),
    get_ms_p99: round(percentile(r, 99)),
    get_messages: (await store.get("s0"))?.messages.length ?? 0,
    concurrent_writers: writers,
    concurrent_commits_per_s: Math.round((writers * perWriter) / seconds),
  };
}

const dir = mkdtempSync(join(tmpdir(), "skiff-bench-sessions-"));
const sqlite = createSqliteSessionStore(join(dir, "bench.db"));
const sqliteResult = await measure(sqlite);
await sqlite.close();
rmSync(dir, { recursive: true, force: true });

const given = process.env["BENCH_POSTGRES_URL"];
const pg = given ? undefined : await testPostgres();
const url = given ?? (pg ? await freshDatabase(pg) : undefined);
let postgresResult: Record<string, unknown> | undefined;
if (url) {
  const store = await createPostgresSessionStore(url);
  postgresResult = { server: given ? "BENCH_POSTGRES_URL" : "throwaway test cluster on 127.0.0.1 (fsync=off, synchronous_commit=off)", ...(await measure(store)) };
  await store.close();
  await dropDatabases(pg);
}

const result = {
  id: "sessions",
  date: new Date().toISOString(),
  machine: { cores: cpus().length },
  sqlite: { file: "temp dir, WAL, synchronous=NORMAL", ...sqliteResult },
  postgres: postgresResult ?? "no server: set BENCH_POSTGRES_URL or install PostgreSQL",
  note: "one commit = one turn of 4 messages in one transaction, trimmed to 200 messages; client-side wall time, same process, 127.0.0.1",
};
const out = resolve(import.meta.dir, "results", "sessions.json");
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result, null, 2));
