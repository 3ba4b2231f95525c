/**
 * What a session store costs per run, for bench/durable-runs.ts: bytes the skiff process sent to
 * the disk, a SQLite file's growth, Postgres WAL bytes, table growth and CPU; plus a throwaway
 * Postgres cluster with the server's default durability, and the disk's fdatasync time.
 */
import { SQL } from "bun";
import { Database } from "bun:sqlite";
import { closeSync, fdatasyncSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ownCluster, type TestCluster } from "../test/helpers/postgres.ts";
import { cpuSecondsOf, percentile } from "./proc.ts";

/** A store's own figures for one phase: `before` it, then `after` it with the phase's run count. */
export interface Meter {
  readonly name: string;
  /** The `server.sessions` value that selects this store. */
  readonly sessions: string;
  before(skiffPid: number): Promise<void>;
  after(skiffPid: number, runs: number): Promise<Record<string, unknown>>;
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Bytes a process caused to be sent to the storage layer (/proc/PID/io write_bytes). */
function ioWriteBytes(pid: number): number {
  return Number(/^write_bytes: (\d+)/m.exec(readFileSync(`/proc/${pid}/io`, "utf8"))?.[1] ?? Number.NaN);
}

/** `sessions = "memory"`: nothing should reach the disk. */
export function memoryMeter(): Meter {
  let written = 0;
  return {
    name: "memory",
    sessions: "memory",
    async before(pid) {
      written = ioWriteBytes(pid);
    },
    async after(pid, runs) {
      return { disk_bytes_written_per_run: Math.round((ioWriteBytes(pid) - written) / runs) };
    },
  };
}

/** A SQLite file in `dir`: what skiff wrote to disk (WAL frames, its checkpoints) and the file's growth. */
export function sqliteMeter(dir: string): Meter {
  const path = join(dir, "skiff.db");
  let written = 0;
  let fileSize = 0;
  const size = (file: string) => statSync(file, { throwIfNoEntry: false })?.size ?? 0;
  // Folds the WAL into the file (on a connection of the bench's own) so the file's size is the data's.
  const checkpointed = () => {
    const db = new Database(path);
    try {
      db.exec("PRAGMA busy_timeout = 5000");
      db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    } finally {
      db.close();
    }
    return size(path);
  };
  return {
    name: "sqlite",
    sessions: `sqlite:${path}`,
    async before(pid) {
      fileSize = checkpointed();
      written = ioWriteBytes(pid);
    },
    async after(pid, runs) {
      const diskBytes = ioWriteBytes(pid) - written;
      const walSize = size(`${path}-wal`);
      return {
        disk_bytes_written_per_run: Math.round(diskBytes / runs),
        file_growth_bytes_per_run: Math.round((checkpointed() - fileSize) / runs),
        wal_file_bytes_at_end: walSize,
      };
    },
  };
}

/** A Postgres database: WAL bytes, growth of skiff's run tables, and (on our own cluster) Postgres's CPU. */
export function postgresMeter(url: string, cluster: TestCluster | undefined): Meter & { close(): Promise<void> } {
  const admin = new SQL(url, { max: 1 });
  let lsn = "";
  let tables = 0;
  let pgCpu = 0;
  const tableBytes = async () => {
    const [row] = await admin<{ bytes: string }[]>`
      SELECT coalesce(pg_total_relation_size(to_regclass('skiff_runs')), 0) + coalesce(pg_total_relation_size(to_regclass('skiff_run_events')), 0) AS bytes`;
    return Number(row!.bytes);
  };
  // The postmaster's children: backends, WAL writer, checkpointer.
  const postgresCpu = () => (cluster ? childrenCpuSeconds(Number(readFileSync(join(cluster.dataDir, "postmaster.pid"), "utf8").split("\n")[0])) : Number.NaN);
  return {
    name: "postgres",
    sessions: url,
    async before() {
      // A checkpoint first, so every page the phase touches is written whole to the WAL once
      // (full_page_writes), as in a server's steady state between checkpoints.
      await admin`CHECKPOINT`;
      const [row] = await admin<{ lsn: string }[]>`SELECT pg_current_wal_lsn()::text AS lsn`;
      lsn = row!.lsn;
      tables = await tableBytes();
      pgCpu = postgresCpu();
    },
    async after(_pid, runs) {
      const [wal] = await admin<{ bytes: string }[]>`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), ${lsn}::pg_lsn) AS bytes`;
      return {
        wal_bytes_per_run: Math.round(Number(wal!.bytes) / runs),
        table_growth_bytes_per_run: Math.round(((await tableBytes()) - tables) / runs),
        postgres_cpu_ms_per_run: round(((postgresCpu() - pgCpu) * 1000) / runs, 3),
      };
    },
    close: () => admin.close(),
  };
}

/** CPU seconds of the processes whose parent is `pid` (those running now; ended ones are not counted). */
function childrenCpuSeconds(pid: number): number {
  let sum = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) === pid) sum += cpuSecondsOf(Number(entry));
    } catch {
      // ended meanwhile
    }
  }
  return sum;
}

/**
 * The test helper's throwaway cluster restarted with the server's default durability (fsync,
 * synchronous_commit, full_page_writes on: the helper starts it with all three off). Undefined
 * when PostgreSQL is not installed. The helper stops it when this process exits.
 */
export async function durableCluster(): Promise<TestCluster | undefined> {
  const cluster = await ownCluster();
  if (!cluster) return undefined;
  const bin = dirname(Bun.which("initdb") ?? newestDebianInitdb());
  const owner = statSync(cluster.dataDir).uid;
  const asOwner = process.getuid?.() === 0 && owner !== 0 ? ["runuser", "-u", Bun.spawnSync(["id", "-nu", String(owner)]).stdout.toString().trim(), "--"] : [];
  const options = `-c listen_addresses=127.0.0.1 -p ${new URL(cluster.url).port} -k ${dirname(cluster.dataDir)}`;
  const restart = Bun.spawnSync([...asOwner, join(bin, "pg_ctl"), "-D", cluster.dataDir, "-o", options, "-l", join(dirname(cluster.dataDir), "log"), "-w", "-m", "fast", "restart"]);
  if (restart.exitCode !== 0) throw new Error(`pg_ctl restart failed: ${restart.stderr.toString()}`);
  return cluster;
}

function newestDebianInitdb(): string {
  const versions = readdirSync("/usr/lib/postgresql").sort((x, y) => Number(y) - Number(x));
  return join("/usr/lib/postgresql", versions[0] ?? "", "bin", "initdb");
}

/** The server's version and the settings that decide what a commit costs. */
export async function postgresSettings(url: string): Promise<Record<string, string>> {
  const admin = new SQL(url, { max: 1 });
  try {
    const [row] = await admin<Record<string, string>[]>`
      SELECT current_setting('server_version') AS version, current_setting('fsync') AS fsync,
             current_setting('synchronous_commit') AS synchronous_commit, current_setting('full_page_writes') AS full_page_writes`;
    return row!;
  } finally {
    await admin.close();
  }
}

/** Median time of an 8 KB write + fdatasync(2) in the temp dir: the floor of one durable commit here. */
export function fdatasyncMs(samples = 200): number {
  const dir = mkdtempSync(join(tmpdir(), "skiff-bench-sync-"));
  try {
    const fd = openSync(join(dir, "probe"), "w");
    const page = new Uint8Array(8192).fill(1);
    const times: number[] = [];
    for (let i = 0; i < samples; i++) {
      const started = performance.now();
      writeSync(fd, page, 0, page.length, 0);
      fdatasyncSync(fd);
      times.push(performance.now() - started);
    }
    closeSync(fd);
    times.sort((a, b) => a - b);
    return round(percentile(times, 50), 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
