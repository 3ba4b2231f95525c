/**
 * Durable runs (issue 14) measured on dist/skiff: what journalling every run costs a `skiff serve`
 * on memory, SQLite and PostgreSQL sessions, and how late a run's events reach a follower on
 * another replica. Writes bench/results/durable-runs.json.
 *
 *   bun bench/durable-runs.ts                     every part (3 to 5 minutes on 2 cores)
 *   bun bench/durable-runs.ts sqlite events       some: memory, sqlite, postgres, events (a partial
 *                                                 run replaces only its parts in the results file)
 *
 * Stores: the same load on each, against the fake upstream answering at once (B2's turn: 2 model
 * calls, 3 HTTP tools): 300 runs one after another (latency alone), then DURABLE_RUNS (2,000)
 * foreground runs from DURABLE_CLIENTS (32) clients, then as many background runs submitted by
 * the same clients, all in flight at once, waited for through /metrics and read back with
 * GET /v1/runs/{id}; DURABLE_REPEATS (3) sittings per store on fresh processes and databases,
 * reporting the median one (by foreground runs/s). Per run: throughput, latency, journal writes
 * (skiff_run_journal_writes_total), bytes written (SQLite: what the skiff process sent to the
 * disk, /proc/PID/io write_bytes, and the file's growth after a checkpoint; Postgres: WAL bytes
 * from pg_current_wal_lsn() and the growth of skiff's run tables), CPU of skiff and of Postgres.
 * Postgres is a throwaway cluster of our own on 127.0.0.1 run with the server's default
 * durability (fsync, synchronous_commit and full_page_writes on), or $BENCH_POSTGRES_URL (a
 * database it may fill). The disk's fdatasync time is recorded beside each durable store.
 *
 * Events: two replicas on one Postgres, runs submitted to A with a 100 ms model and 100 ms tools;
 * a follower of GET /v1/runs/{id}/events on each replica; for every event, when B's follower got
 * it minus when A's did (A's is woken in process, B's polls the database every 250 ms).
 *
 * Everything is on 127.0.0.1, bounded in count and time (the whole stops itself after 10
 * minutes), and every process is stopped by PID.
 */
import { SQL } from "bun";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { dropDatabases, freshDatabase } from "../test/helpers/postgres.ts";
import { followEvents } from "./follow-events.ts";
import { benchConfigToml } from "./bench-config.ts";
import { cpuSecondsOf, freePort, percentile, start, startWithPort, waitForOk, type Started } from "./proc.ts";
import { durableCluster, fdatasyncMs, type Meter, memoryMeter, postgresMeter, postgresSettings, sqliteMeter } from "./store-meters.ts";

const root = resolve(import.meta.dir, "..");
const binary = join(root, "dist", "skiff");
const bun = process.execPath;
const runs = Number(process.env["DURABLE_RUNS"] ?? 2_000);
const clients = Number(process.env["DURABLE_CLIENTS"] ?? 32);
const sequentialRuns = 300;
const repeats = Math.max(1, Number(process.env["DURABLE_REPEATS"] ?? 3));
const eventRuns = 25;
const cleanup: Started[] = [];
const tempDirs: string[] = [];
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

async function upstream(llmDelayMs: number, toolDelayMs: number): Promise<{ url: string; proc: Started }> {
  const proc = await startWithPort([bun, join(root, "bench", "fake-upstream.ts")], {
    PATH: process.env["PATH"],
    LLM_DELAY_MS: String(llmDelayMs),
    TOOL_DELAY_MS: String(toolDelayMs),
    TOOL_CALLS: "3",
  });
  cleanup.push(proc);
  return { url: `http://127.0.0.1:${proc.port}`, proc };
}

/** `skiff serve` as bench/run.ts starts it (HTTP tool and OTLP export on the fake), on `sessions`. */
async function serve(up: string, sessions: string): Promise<{ base: string; proc: Started }> {
  const dir = tempDir();
  writeFileSync(join(dir, "skiff.toml"), benchConfigToml({ upstream: up, sessions, otel: true, top: [`timeout = "5m"`] }));
  const port = freePort();
  const proc = start([binary, "serve", "--listen", `127.0.0.1:${port}`], { PATH: process.env["PATH"], HOME: dir }, dir);
  cleanup.push(proc);
  const base = `http://127.0.0.1:${port}`;
  await waitForOk(`${base}/healthz`).catch((error: unknown) => {
    throw new Error(`skiff serve on ${sessions} did not start: ${proc.stderr()}`, { cause: error });
  });
  return { base, proc };
}

/** `count` calls of `job`, `concurrency` at a time, each given its index. */
async function pool(count: number, concurrency: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) await job(next++);
  }));
}

/** Sum of every series of a /metrics counter. */
async function metric(base: string, name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  let sum = 0;
  for (const match of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, "gm"))) sum += Number(match[1]);
  return sum;
}

async function post(base: string, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${base}/v1/runs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

/** The service's figures of one phase: writes and CPU per run, from /metrics and /proc. */
async function measured(base: string, pid: number, meter: Meter, phase: () => Promise<Record<string, unknown>>): Promise<Record<string, unknown>> {
  await meter.before(pid);
  const writes = await metric(base, "skiff_run_journal_writes_total");
  const cpu = cpuSecondsOf(pid);
  const figures = await phase();
  const skiffCpu = cpuSecondsOf(pid) - cpu;
  return {
    ...figures,
    journal_writes_per_run: round(((await metric(base, "skiff_run_journal_writes_total")) - writes) / runs),
    skiff_cpu_ms_per_run: round((skiffCpu * 1000) / runs, 3),
    ...(await meter.after(pid, runs)),
  };
}

/** Runs one after another: the latency a run's journal adds when nothing waits in line. */
async function sequential(base: string): Promise<Record<string, unknown>> {
  const times: number[] = [];
  let errors = 0;
  for (let i = 0; i < sequentialRuns; i++) {
    const t = performance.now();
    const res = await post(base, { input: `alone ${i}` });
    const body = (await res.json()) as { finish_reason?: string };
    times.push(performance.now() - t);
    if (res.status !== 200 || body.finish_reason !== "stop") errors++;
  }
  times.sort((a, b) => a - b);
  const mean = times.reduce((sum, t) => sum + t, 0) / times.length;
  return { runs: sequentialRuns, errors, mean_ms: round(mean, 3), p50_ms: round(percentile(times, 50), 3), p99_ms: round(percentile(times, 99), 3) };
}

async function foreground(base: string): Promise<Record<string, unknown>> {
  const times: number[] = [];
  let errors = 0;
  const started = performance.now();
  await pool(runs, clients, async (i) => {
    const t = performance.now();
    const res = await post(base, { input: `run ${i}` }).catch(() => undefined);
    const body = (await res?.json().catch(() => undefined)) as { finish_reason?: string } | undefined;
    times.push(performance.now() - t);
    if (res?.status !== 200 || body?.finish_reason !== "stop") errors++;
  });
  const wall = (performance.now() - started) / 1000;
  times.sort((a, b) => a - b);
  return { runs, clients, errors, runs_per_s: round(runs / wall, 1), p50_ms: round(percentile(times, 50)), p99_ms: round(percentile(times, 99)) };
}

/** Submits every run (202) from `clients` clients, waits until all have ended, then reads each back. */
async function background(base: string): Promise<Record<string, unknown>> {
  const ids: string[] = [];
  const submitMs: number[] = [];
  let errors = 0;
  const doneBefore = await metric(base, "skiff_runs_total");
  const startedAt = Date.now();
  await pool(runs, clients, async (i) => {
    const t = performance.now();
    const res = await post(base, { input: `run ${i}`, background: true }).catch(() => undefined);
    submitMs.push(performance.now() - t);
    const body = (await res?.json().catch(() => undefined)) as { id?: string } | undefined;
    if (res?.status === 202 && body?.id) ids.push(body.id);
    else errors++;
  });
  const deadline = Date.now() + 180_000;
  while ((await metric(base, "skiff_runs_total")) - doneBefore < ids.length) {
    if (Date.now() > deadline) throw new Error("background runs did not all end within 3 minutes");
    await Bun.sleep(50);
  }
  // Each run's latency is the server's own: accepted (created_at) to stored as finished (updated_at).
  const latencies: number[] = [];
  let lastEnd = 0;
  await pool(ids.length, clients, async (i) => {
    const run = (await (await fetch(`${base}/v1/runs/${ids[i]}`)).json()) as { status: string; created_at: string; updated_at: string };
    if (run.status !== "completed") errors++;
    const end = Date.parse(run.updated_at);
    latencies.push(end - Date.parse(run.created_at));
    lastEnd = Math.max(lastEnd, end);
  });
  latencies.sort((a, b) => a - b);
  submitMs.sort((a, b) => a - b);
  return {
    runs,
    submitting_clients: clients,
    errors,
    runs_per_s: round(runs / ((lastEnd - startedAt) / 1000), 1),
    p50_ms: percentile(latencies, 50),
    p99_ms: percentile(latencies, 99),
    submit_p50_ms: round(percentile(submitMs, 50)),
    submit_p99_ms: round(percentile(submitMs, 99)),
  };
}

/** Figures of one store's phase, as `measured` returns them. */
type Phase = Record<string, unknown> & { runs_per_s: number; p50_ms: number; p99_ms: number };

/** One sitting on one store: a fresh fake upstream and `skiff serve`, warmed up, then both phases. */
async function sitting(meter: Meter): Promise<{ sequential: Record<string, unknown>; foreground: Phase; background: Phase }> {
  const up = await upstream(0, 0);
  const server = await serve(up.url, meter.sessions);
  await pool(200, clients, async (i) => void (await (await post(server.base, { input: `warm up ${i}` })).arrayBuffer()));
  const alone = await sequential(server.base);
  const fg = (await measured(server.base, server.proc.pid, meter, () => foreground(server.base))) as Phase;
  const bg = (await measured(server.base, server.proc.pid, meter, () => background(server.base))) as Phase;
  await server.proc.stop();
  await up.proc.stop();
  console.log(`${meter.name}: ${JSON.stringify({ sequential: alone, foreground: fg, background: bg })}`);
  return { sequential: alone, foreground: fg, background: bg };
}

/**
 * `repeats` sittings on fresh processes and a fresh database each (the host is noisy): the
 * figures of the sitting with the median foreground throughput, and every sitting's headline beside them.
 */
async function measureStore(newMeter: () => Promise<Meter & { close?(): Promise<void> }>): Promise<Record<string, unknown>> {
  const sittings: Awaited<ReturnType<typeof sitting>>[] = [];
  for (let i = 0; i < repeats; i++) {
    const meter = await newMeter();
    try {
      sittings.push(await sitting(meter));
    } finally {
      await meter.close?.();
    }
  }
  const headline = (phase: Phase) => ({ runs_per_s: phase.runs_per_s, p50_ms: phase.p50_ms, p99_ms: phase.p99_ms });
  const byThroughput = [...sittings].sort((x, y) => x.foreground.runs_per_s - y.foreground.runs_per_s);
  return {
    ...byThroughput[Math.floor((byThroughput.length - 1) / 2)]!,
    sittings: sittings.map((s) => ({ sequential_mean_ms: s.sequential["mean_ms"], foreground: headline(s.foreground), background: headline(s.background) })),
  };
}

/** mean, p50, p99, min and max of some milliseconds, under `prefix`. */
function spread(prefix: string, values: number[]): Record<string, number> {
  const sorted = [...values].sort((x, y) => x - y);
  return {
    [`${prefix}_mean`]: round(sorted.reduce((s, v) => s + v, 0) / sorted.length, 1),
    [`${prefix}_p50`]: round(percentile(sorted, 50), 1),
    [`${prefix}_p99`]: round(percentile(sorted, 99), 1),
    [`${prefix}_min`]: round(sorted[0] ?? Number.NaN, 1),
    [`${prefix}_max`]: round(sorted.at(-1) ?? Number.NaN, 1),
  };
}

/**
 * Two replicas on one database, runs executed by A, a follower of its events on each. Per event:
 * what B's follower adds to A's, and each one's delay from the event's write (its stored `at`,
 * the statement's start on the database's clock, the same clock as ours on one machine).
 */
async function crossReplicaEvents(url: string): Promise<Record<string, unknown>> {
  const up = await upstream(100, 100);
  const a = await serve(up.url, url);
  const b = await serve(up.url, url);
  const sql = new SQL(url, { max: 1 });
  const added: number[] = [];
  const fromWriteA: number[] = [];
  const fromWriteB: number[] = [];
  let skipped = 0;
  try {
    for (let i = 0; i < eventRuns; i++) {
      const res = await post(a.base, { input: `followed ${i}`, background: true });
      const { id } = (await res.json()) as { id: string };
      const sent = performance.now();
      const [onA, onB] = await Promise.all([followEvents(`${a.base}/v1/runs/${id}/events`), followEvents(`${b.base}/v1/runs/${id}/events`)]);
      // Counted: the events from the first model answer on (seq 3, 100 ms into the run), written
      // after both followers had made their first read; the two before may come in a replay.
      const aLive = onA.events.filter((e) => e.seq > 2);
      if (aLive.length === 0 || aLive[0]!.at - sent < 50 || onB.events.length !== onA.events.length) {
        skipped++;
        continue;
      }
      const rows = await sql<{ seq: number; at: string }[]>`SELECT seq, at FROM skiff_run_events WHERE run_id = ${id}`;
      const writtenAt = new Map(rows.map((row) => [row.seq, Number(row.at)]));
      const bAt = new Map(onB.events.map((e) => [e.seq, e.at]));
      const epoch = (at: number) => performance.timeOrigin + at;
      for (const event of aLive) {
        added.push(bAt.get(event.seq)! - event.at);
        fromWriteA.push(epoch(event.at) - writtenAt.get(event.seq)!);
        fromWriteB.push(epoch(bAt.get(event.seq)!) - writtenAt.get(event.seq)!);
      }
    }
  } finally {
    await sql.close();
    await a.proc.stop();
    await b.proc.stop();
    await up.proc.stop();
  }
  return {
    runs: eventRuns,
    runs_skipped: skipped,
    events: added.length,
    ...spread("added_ms", added),
    ...spread("a_from_write_ms", fromWriteA),
    ...spread("b_from_write_ms", fromWriteB),
    a_later_than_50ms: fromWriteA.filter((ms) => ms > 50).length,
    note: "background runs on replica A (model 100 ms, 3 tools 100 ms); added: per event, when the follower on B received it minus when the follower on A did; from_write: receipt minus the event's stored write time (ms precision)",
  };
}

/** A temp dir removed at the end. */
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "skiff-bench-durable-"));
  tempDirs.push(dir);
  return dir;
}

async function main(): Promise<void> {
  const parts = ["memory", "sqlite", "postgres", "events"];
  const wanted = process.argv.length > 2 ? process.argv.slice(2) : parts;
  for (const part of wanted) if (!parts.includes(part)) throw new Error(`unknown part "${part}"; known: ${parts.join(", ")}`);
  if (!existsSync(binary)) throw new Error(`${binary} is missing: run ./build.sh first`);
  // A partial run replaces only its parts in the results file.
  const path = join(root, "bench", "results", "durable-runs.json");
  const previous = existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>) : {};
  const result: Record<string, unknown> = {
    ...previous,
    id: "durable-runs",
    machine: { cores: cpus().length },
    binary_bytes: statSync(binary).size,
    journal_writes_note: "skiff_run_journal_writes_total counts appends of events and the final write; each run also has its create and its trace id write, so a run is journal_writes_per_run + 2 write transactions",
    load: `B2's turn (2 model calls, 3 HTTP tools; fake upstream answering at once), OTLP export on; ${runs} foreground runs from ${clients} clients, then ${runs} background runs submitted by ${clients} clients, all in flight at once`,
  };
  const dated = (figures: Record<string, unknown>) => ({ date: new Date().toISOString(), ...figures });
  const given = process.env["BENCH_POSTGRES_URL"];
  const cluster = given || !(wanted.includes("postgres") || wanted.includes("events")) ? undefined : await durableCluster();
  const server = given ?? cluster?.url;
  try {
    if (wanted.includes("memory")) result["memory"] = dated(await measureStore(async () => memoryMeter()));
    if (wanted.includes("sqlite")) {
      const sync = fdatasyncMs();
      result["sqlite"] = dated({ file: "WAL, synchronous=NORMAL (skiff's settings), ext4", disk_fdatasync_8k_ms_p50: sync, ...(await measureStore(async () => sqliteMeter(tempDir()))) });
    }
    if (server && wanted.includes("postgres")) {
      const where = given ? "BENCH_POSTGRES_URL" : "throwaway cluster on 127.0.0.1, ext4";
      const head = { server: where, settings: await postgresSettings(server), disk_fdatasync_8k_ms_p50: fdatasyncMs() };
      // A fresh database per sitting on our own cluster; the given one is reused (its tables grow).
      const newMeter = async () => postgresMeter(given ?? (await freshDatabase(cluster!)), cluster);
      result["postgres"] = dated({ ...head, ...(await measureStore(newMeter)) });
    }
    if (server && wanted.includes("events")) {
      result["cross_replica_events"] = dated(await crossReplicaEvents(given ?? (await freshDatabase(cluster!))));
      console.log(`events: ${JSON.stringify(result["cross_replica_events"])}`);
    }
    if (!server && (wanted.includes("postgres") || wanted.includes("events"))) result["postgres"] = "no server: set BENCH_POSTGRES_URL or install PostgreSQL";
  } finally {
    await Promise.all(cleanup.map((proc) => proc.stop(2_000)));
    if (cluster) {
      await dropDatabases(cluster).catch(() => {});
      await cluster.stop();
    }
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(join(root, "bench", "results"), { recursive: true });
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
}

const deadline = setTimeout(() => {
  console.error("durable-runs: stopped after 10 minutes");
  for (const proc of cleanup) void proc.stop(0);
  process.exit(1);
}, 10 * 60_000);
await main();
clearTimeout(deadline);
