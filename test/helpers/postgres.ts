/**
 * A PostgreSQL server for tests. In order: `$SKIFF_TEST_POSTGRES_URL` (CI starts one with
 * .ci/postgres.sh); else a throwaway cluster this test process starts itself when initdb is
 * installed (initdb + pg_ctl in a temp dir, as a non-root user, on 127.0.0.1 and a free port,
 * stopped when the process exits); else none. Without one the Postgres tests skip with a message,
 * except in CI (CI=true), where `testPostgres()` throws so they fail loudly.
 *
 * Each test gets a database of its own (`freshDatabase()`), dropped again by `dropDatabases()`.
 */
import { SQL } from "bun";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A reachable server. */
export interface TestPostgres {
  /** A URL of the server's `postgres` database, for admin work. */
  readonly url: string;
  /** Where it came from, for messages. */
  readonly origin: string;
}

/** A cluster this process started and may restart. */
export interface TestCluster extends TestPostgres {
  /** The data directory (its `postmaster.pid` names the server's process). */
  readonly dataDir: string;
  /** `pg_ctl restart -m fast`: every connection is dropped, the server is back when it resolves. */
  restart(): Promise<void>;
  /** `pg_ctl stop -m immediate` and removes the cluster's directory. */
  stop(): Promise<void>;
}

let server: Promise<TestPostgres | undefined> | undefined;

/** The test server, started once per test process; undefined (tests skip) only outside CI. */
export function testPostgres(): Promise<TestPostgres | undefined> {
  server ??= find();
  return server;
}

/** Whether initdb is installed, so `ownCluster()` can start a server. */
export function canStartCluster(): boolean {
  return postgresBinDir() !== undefined;
}

/** True in CI, where a missing Postgres must fail the run. */
export const inCI = process.env["CI"] === "true" || process.env["CI"] === "1";

async function find(): Promise<TestPostgres | undefined> {
  const given = process.env["SKIFF_TEST_POSTGRES_URL"];
  if (given) return { url: given, origin: "SKIFF_TEST_POSTGRES_URL" };
  const bin = postgresBinDir();
  if (bin) return startCluster(bin);
  const why = "SKIFF_TEST_POSTGRES_URL is not set and no initdb was found (apt-get install postgresql, or run .ci/run)";
  if (inCI) throw new Error(`the Postgres session store tests need a server in CI: ${why}`);
  console.warn(`skipping the Postgres tests: ${why}`);
  return undefined;
}

/** The directory of initdb/pg_ctl: on PATH, or Debian's /usr/lib/postgresql/<newest>/bin. */
function postgresBinDir(): string | undefined {
  const onPath = Bun.which("initdb");
  if (onPath) return join(onPath, "..");
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], "bin");
}

/**
 * A cluster of the caller's own (not the shared test server), for tests that restart it;
 * undefined when initdb is not installed.
 */
export async function ownCluster(): Promise<TestCluster | undefined> {
  const bin = postgresBinDir();
  return bin ? startCluster(bin) : undefined;
}

async function startCluster(bin: string): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), "skiff-test-pg-"));
  // Postgres refuses to run as root: run it as the postgres user Debian creates (else nobody).
  const asUser = process.getuid?.() === 0 ? (uidOf("postgres") ?? uidOf("nobody")) : undefined;
  if (asUser) chownSync(dir, asUser.uid, asUser.gid);
  const run = (argv: string[]) => {
    const full = asUser ? ["runuser", "-u", asUser.name, "--", ...argv] : argv;
    const result = Bun.spawnSync(full, { stdout: "pipe", stderr: "pipe" });
    if (result.exitCode !== 0) throw new Error(`${argv.join(" ")} failed (${result.exitCode}): ${result.stderr.toString()}${result.stdout.toString()}`);
  };
  const port = await freePort();
  const data = join(dir, "data");
  run([join(bin, "initdb"), "-D", data, "-U", "skiff", "--auth=trust", "-E", "UTF8", "--no-sync"]);
  // fsync off: a test cluster need not survive a power cut, and it makes commits as cheap as they get.
  const options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  run([join(bin, "pg_ctl"), "-D", data, "-o", options, "-l", join(dir, "log"), "-w", "-t", "30", "start"]);
  // bun test fires no "exit" event, so a watchdog stops the cluster once this process is gone
  // (also after a crash or kill -9 of the test run).
  const watchdog = `while kill -0 "$1" 2>/dev/null; do sleep 0.5; done; $2 "$3" -D "$4" -m immediate -w stop >/dev/null 2>&1; rm -rf "$5"`;
  const stopper = asUser ? `runuser -u ${asUser.name} --` : "";
  Bun.spawn(["sh", "-c", watchdog, "watchdog", String(process.pid), stopper, join(bin, "pg_ctl"), data, dir], {
    stdio: ["ignore", "ignore", "ignore"],
  }).unref();
  return {
    url: `postgres://skiff@127.0.0.1:${port}/postgres`,
    origin: `a throwaway cluster in ${dir}`,
    dataDir: data,
    async stop() {
      const argv = [join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"];
      await Bun.spawn(asUser ? ["runuser", "-u", asUser.name, "--", ...argv] : argv, { stdout: "ignore", stderr: "ignore" }).exited;
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      // Spawned, not spawnSync: a blocked event loop would hide from clients that their
      // connections died, which is not what a real restart looks like.
      const argv = [join(bin, "pg_ctl"), "-D", data, "-o", options, "-l", join(dir, "log"), "-w", "-m", "fast", "restart"];
      const proc = Bun.spawn(asUser ? ["runuser", "-u", asUser.name, "--", ...argv] : argv, { stdout: "ignore", stderr: "pipe" });
      if ((await proc.exited) !== 0) throw new Error(`pg_ctl restart failed: ${await new Response(proc.stderr).text()}`);
    },
  };
}

function uidOf(name: string): { name: string; uid: number; gid: number } | undefined {
  const result = Bun.spawnSync(["id", "-u", name]);
  if (result.exitCode !== 0) return undefined;
  const gid = Bun.spawnSync(["id", "-g", name]).stdout.toString().trim();
  return { name, uid: Number(result.stdout.toString().trim()), gid: Number(gid) };
}

async function freePort(): Promise<number> {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

const created: string[] = [];
let counter = 0;

/** A new empty database on the test server; its URL. */
export async function freshDatabase(pg: TestPostgres): Promise<string> {
  const name = `skiff_test_${process.pid}_${++counter}`;
  const admin = new SQL(pg.url, { max: 1 });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.close();
  }
  created.push(name);
  const url = new URL(pg.url);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops the databases `freshDatabase` made (call in afterAll). */
export async function dropDatabases(pg: TestPostgres | undefined): Promise<void> {
  if (!pg || created.length === 0) return;
  const admin = new SQL(pg.url, { max: 1 });
  try {
    for (const name of created.splice(0)) await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await admin.close();
  }
}
