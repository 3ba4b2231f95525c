/**
 * The run journal's cost: bytes written per run and append latency, on SQLite (a temp file, WAL)
 * and on Postgres (127.0.0.1 only). A typical run's journal: created already claimed with a
 * `run.started` event, its trace id recorded, 5 steps of one `model.completed` (~1 KB JSON), one
 * `tool.started` and one `tool.finished` (~300 B each), each its own append, then finished with a
 * `run.completed` event and a ~1 KB result. Writes bench/results/run-journal.json.
 *
 *   bun bench/run-journal.ts      Postgres from $BENCH_POSTGRES_URL (a database it may fill), else
 *                                 a throwaway cluster of its own on 127.0.0.1 (fsync off), measured
 *                                 twice: full_page_writes on (as in production), then off
 *
 * Per run: Postgres table + index + TOAST growth (pg_total_relation_size) and WAL bytes
 * (pg_current_wal_lsn() before and after); SQLite file growth after a checkpoint, and the bytes
 * this process handed to write(2) (/proc/self/io wchar: WAL frames and checkpoints). Bounded:
 * 200 sequential runs, then 200 more 16 at a time for throughput.
 */
import { SQL } from "bun";
import { Database } from "bun:sqlite";
import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createPostgresRunStore } from "../src/runs/postgres-runs.ts";
import type { NewRunEvent, RunStore } from "../src/runs/run-store.ts";
import { createSqliteRunStore } from "../src/runs/sqlite-runs.ts";
import { dropDatabases, freshDatabase, ownCluster, type TestCluster } from "../test/helpers/postgres.ts";
import { percentile } from "./proc.ts";

const runs = 200;
const concurrent = 16;
const steps = 5;
const round = (value: number, places = 3) => Math.round(value * 10 ** places) / 10 ** places;

/** A JSON body of about `bytes` bytes. */
const body = (type: string, bytes: number, n: number) => {
  const head = JSON.stringify({ type, step: n, at: "2026-12-01T10:00:00.000Z", text: "" });
  return JSON.stringify({ type, step: n, at: "2026-12-01T10:00:00.000Z", text: "x".repeat(Math.max(0, bytes - head.length)) });
};
const event = (type: string, bytes: number, n: number): NewRunEvent => ({ type, data: body(type, bytes, n) });

/** One run's journal; the time of every append goes to `appendMs`. */
async function journal(store: RunStore, id: string, appendMs: number[]): Promise<void> {
  const owner = "bench-replica";
  await store.create({ id, sessionId: "bench-session", background: true, request: body("request", 500, 0), owner, leaseMs: 600_000, events: [event("run.started", 200, 0)] });
  await store.setTraceId(id, owner, "4bf92f3577b34da6a3ce929d0e0e4736");
  for (let step = 1; step <= steps; step++) {
    for (const next of [event("model.completed", 1_000, step), event("tool.started", 300, step), event("tool.finished", 300, step)]) {
      const started = performance.now();
      await store.append(id, owner, [next]);
      appendMs.push(performance.now() - started);
    }
  }
  await store.finish(id, owner, "completed", body("result", 1_000, steps), [event("run.completed", 300, steps)]);
}

/** Sequential runs for latency and bytes, then concurrent ones for throughput. */
async function exercise(store: RunStore, prefix: string, between?: () => Promise<void>) {
  const appendMs: number[] = [];
  const started = performance.now();
  // Random ids, as the service makes them: index inserts land all over the index, not at its end.
  for (let i = 0; i < runs; i++) await journal(store, `${prefix}_${crypto.randomUUID()}`, appendMs);
  const sequentialS = (performance.now() - started) / 1000;
  await between?.();
  const burst = performance.now();
  const ignored: number[] = [];
  for (let i = 0; i < runs; i += concurrent) {
    await Promise.all(Array.from({ length: Math.min(concurrent, runs - i) }, () => journal(store, `${prefix}_${crypto.randomUUID()}`, ignored)));
  }
  const concurrentS = (performance.now() - burst) / 1000;
  const sorted = [...appendMs].sort((a, b) => a - b);
  return {
    append_ms_p50: round(percentile(sorted, 50)),
    append_ms_p99: round(percentile(sorted, 99)),
    appends: sorted.length,
    runs_per_s_sequential: round(runs / sequentialS, 1),
    runs_per_s_16_concurrent: round(runs / concurrentS, 1),
  };
}

function wchar(): number {
  const line = readFileSync("/proc/self/io", "utf8").split("\n").find((l) => l.startsWith("wchar:"));
  return Number(line?.split(/\s+/)[1] ?? Number.NaN);
}

async function measureSqlite() {
  const dir = mkdtempSync(join(tmpdir(), "skiff-bench-journal-"));
  try {
    const path = join(dir, "skiff.db");
    const store = createSqliteRunStore(path);
    // A second connection, to checkpoint the WAL into the file before each size reading.
    const db = new Database(path);
    const checkpointedSize = () => {
      db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      return statSync(path).size;
    };
    const fileBefore = checkpointedSize();
    const writtenBefore = wchar();
    let perRun: Record<string, number> = {};
    const figures = await exercise(store, "s", async () => {
      const walWritten = wchar() - writtenBefore;
      const fileAfter = checkpointedSize();
      perRun = {
        file_growth_bytes_per_run: Math.round((fileAfter - fileBefore) / runs),
        wal_bytes_written_per_run: Math.round(walWritten / runs),
        written_with_checkpoint_bytes_per_run: Math.round((wchar() - writtenBefore) / runs),
      };
    });
    db.close();
    await store.close();
    return { ...perRun, ...figures };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The test helper's throwaway cluster, restarted without its `full_page_writes=off`, so the WAL
 * figures include the page images a production server writes after each checkpoint. fsync stays
 * off: this measures bytes and round trips, not the disk.
 */
async function productionLikeCluster(): Promise<TestCluster | undefined> {
  const cluster = await ownCluster();
  if (!cluster) return undefined;
  const pgCtl = join(dirname(realpathSync(Bun.which("pg_ctl") ?? Bun.which("initdb") ?? debianBin())), "pg_ctl");
  const owner = statSync(cluster.dataDir).uid;
  const asOwner = process.getuid?.() === 0 && owner !== 0 ? ["runuser", "-u", Bun.spawnSync(["id", "-nu", String(owner)]).stdout.toString().trim(), "--"] : [];
  const options = `-c listen_addresses=127.0.0.1 -p ${new URL(cluster.url).port} -k ${dirname(cluster.dataDir)} -c fsync=off`;
  const restart = Bun.spawnSync([...asOwner, pgCtl, "-D", cluster.dataDir, "-o", options, "-l", join(dirname(cluster.dataDir), "log"), "-w", "-m", "fast", "restart"]);
  if (restart.exitCode !== 0) throw new Error(`pg_ctl restart failed: ${restart.stderr.toString()}`);
  return cluster;
}

function debianBin(): string {
  const root = "/usr/lib/postgresql";
  const newest = readdirSync(root).sort((a, b) => Number(b) - Number(a))[0];
  return join(root, newest ?? "", "bin", "initdb");
}

async function measurePostgres(url: string) {
  const admin = new SQL(url, { max: 1 });
  const store = await createPostgresRunStore(url);
  try {
    const sizes = async () => {
      const [row] = await admin<{ bytes: string; lsn: string }[]>`
        SELECT pg_total_relation_size('skiff_runs') + pg_total_relation_size('skiff_run_events') AS bytes, pg_current_wal_lsn()::text AS lsn`;
      return { bytes: Number(row!.bytes), lsn: row!.lsn };
    };
    await admin`CHECKPOINT`;
    const before = await sizes();
    let perRun: Record<string, number> = {};
    const figures = await exercise(store, "p", async () => {
      const after = await sizes();
      const [wal] = await admin<{ bytes: string }[]>`SELECT pg_wal_lsn_diff(${after.lsn}::pg_lsn, ${before.lsn}::pg_lsn) AS bytes`;
      perRun = { table_growth_bytes_per_run: Math.round((after.bytes - before.bytes) / runs), wal_bytes_per_run: Math.round(Number(wal!.bytes) / runs) };
    });
    // A backend hands its table statistics over when it exits: close the store's connections,
    // then wait (bounded) until the counts stop moving.
    await store.close();
    let hot = { n_tup_upd: "", n_tup_hot_upd: "" };
    for (let i = 0; i < 20; i++) {
      await Bun.sleep(250);
      const [row] = await admin<{ n_tup_upd: string; n_tup_hot_upd: string }[]>`
        SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'skiff_runs'`;
      if (!row || row.n_tup_upd === hot.n_tup_upd) break;
      hot = row;
    }
    const [settings] = await admin<{ full_page_writes: string; fsync: string; synchronous_commit: string }[]>`
      SELECT current_setting('full_page_writes') AS full_page_writes, current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS synchronous_commit`;
    return { settings, ...perRun, run_row_updates_heap_only: `${hot.n_tup_hot_upd} of ${hot.n_tup_upd}`, ...figures };
  } finally {
    await store.close().catch(() => {});
    await admin.close();
  }
}

const deadline = setTimeout(() => {
  console.error("run-journal: still running after 5 minutes; stopping");
  process.exit(1);
}, 300_000);

const sqliteResult = await measureSqlite();
const postgresResults: Record<string, unknown>[] = [];
const given = process.env["BENCH_POSTGRES_URL"];
if (given) {
  postgresResults.push({ server: "BENCH_POSTGRES_URL", ...(await measurePostgres(given)) });
} else {
  const cluster = await productionLikeCluster();
  if (cluster) {
    for (const fullPageWrites of ["on", "off"]) {
      const admin = new SQL(cluster.url, { max: 1 });
      await admin.unsafe(`ALTER SYSTEM SET full_page_writes = ${fullPageWrites}`);
      await admin`SELECT pg_reload_conf()`;
      await admin.close();
      const url = await freshDatabase(cluster);
      postgresResults.push({ server: "throwaway cluster on 127.0.0.1", ...(await measurePostgres(url)) });
    }
    await dropDatabases(cluster);
    await cluster.stop();
  }
}
clearTimeout(deadline);

const result = {
  id: "run-journal",
  date: new Date().toISOString(),
  machine: { cores: cpus().length },
  journal: `${runs} runs: create (1 event) + trace id + ${steps} steps × (model.completed ~1 KB, tool.started ~300 B, tool.finished ~300 B; one append each) + finish (1 event, ~1 KB result)`,
  sqlite: { file: "temp dir, WAL, synchronous=NORMAL", ...sqliteResult },
  postgres: postgresResults.length > 0 ? postgresResults : "no server: set BENCH_POSTGRES_URL or install PostgreSQL",
  note: "bytes per run from the sequential runs; latency is client-side wall time of one append, same process, 127.0.0.1",
};
const out = resolve(import.meta.dir, "results", "run-journal.json");
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result, null, 2));
