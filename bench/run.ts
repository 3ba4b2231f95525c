/**
 * skiff's benchmarks (DESIGN §10): B1 idle RSS, B2 overhead per turn, B3 fan-out, B4 10,000
 * concurrent sessions, B5 start-up, B6 size — measured on dist/skiff against the fake upstream in
 * bench/fake-upstream.ts, all on 127.0.0.1. Telemetry stays on (exported to the fake's OTLP
 * endpoint, which discards), as in production. Each scenario writes bench/results/<id>.json.
 *
 *   npm run bench            every scenario (well under 10 minutes)
 *   npm run bench -- b4      one (or several: b2 b3)
 *
 * B2 and B4 run three times each on fresh processes (B2_RUNS, B4_RUNS) and report the median run,
 * since this host is noisy. BENCH_NO_OTEL=1 turns telemetry off; BENCH_FLOOR=1 measures bench/floor-agent.ts instead of
 * skiff, BENCH_BINARY=PATH another agent; B4_TIMELINE=1 prints where B4's upstream slots go.
 *
 * Every loop is bounded in count and time; every process is stopped by PID at the end.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { cpuSecondsOf, threadCpuSecondsOf, freePort, memoryOf, percentile, start, startWithPort, waitForOk, type Started } from "./proc.ts";
import { benchConfigToml } from "./bench-config.ts";

const root = resolve(import.meta.dir, "..");
const binary = join(root, "dist", "skiff");
const resultsDir = join(root, "bench", "results");
const bun = process.execPath;

interface Upstream {
  readonly url: string;
  readonly proc: Started;
}

interface Skiff {
  readonly base: string;
  readonly proc: Started;
}

const cleanup: Started[] = [];
const tempDirs: string[] = [];

async function upstream(env: { LLM_DELAY_MS?: number; TOOL_DELAY_MS?: number; TOOL_CALLS?: number }): Promise<Upstream> {
  const proc = await startWithPort([bun, join(root, "bench", "fake-upstream.ts")], {
    PATH: process.env["PATH"],
    LLM_DELAY_MS: String(env.LLM_DELAY_MS ?? 0),
    TOOL_DELAY_MS: String(env.TOOL_DELAY_MS ?? 0),
    TOOL_CALLS: String(env.TOOL_CALLS ?? 3),
  });
  cleanup.push(proc);
  return { url: `http://127.0.0.1:${proc.port}`, proc };
}

/** Starts `skiff serve` with an [[tools.http]] tool on the fake and OTLP export to it. */
async function skiff(up: Upstream, extraEnv: Record<string, string> = {}): Promise<Skiff> {
  const dir = mkdtempSync(join(tmpdir(), "skiff-bench-"));
  tempDirs.push(dir);
  writeFileSync(
    join(dir, "skiff.toml"),
    benchConfigToml({
      upstream: up.url,
      sessions: "memory",
      otel: process.env["BENCH_NO_OTEL"] !== "1",
      top: [`timeout = "5m"`, `llm_timeout = "2m"`, `tool_timeout = "2m"`],
    }),
  );
  const port = freePort();
  // Another agent on the same harness: any binary (BENCH_BINARY), or the Bun floor (BENCH_FLOOR=1).
  const other = process.env["BENCH_FLOOR"] === "1" ? [bun, join(root, "bench", "floor-agent.ts")] : process.env["BENCH_BINARY"] ? [process.env["BENCH_BINARY"]] : undefined;
  const proc = start([...(other ?? [binary]), "serve", "--listen", `127.0.0.1:${port}`], { PATH: process.env["PATH"], HOME: dir, UPSTREAM: up.url, ...(other ? { BUN_CONFIG_MAX_HTTP_REQUESTS: "9000" } : {}), ...extraEnv }, dir);
  cleanup.push(proc);
  const base = `http://127.0.0.1:${port}`;
  await waitForOk(`${base}/healthz`);
  return { base, proc };
}

async function postRun(base: string, input: string): Promise<{ ok: boolean; ms: number; body?: RunJson }> {
  const started = performance.now();
  try {
    const res = await fetch(`${base}/v1/runs`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ input }),
    });
    const body = (await res.json()) as RunJson;
    return { ok: res.status === 200 && body.finish_reason === "stop", ms: performance.now() - started, body };
  } catch {
    return { ok: false, ms: performance.now() - started };
  }
}

interface RunJson {
  finish_reason: string;
  steps: { duration_ms: number; model_duration_ms: number; tool_calls: unknown[] }[];
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
const mib = (bytes: number) => round(bytes / 1024 / 1024, 1);

function save(id: string, figures: Record<string, unknown>): Record<string, unknown> {
  const result = {
    id,
    date: new Date().toISOString(),
    machine: { cores: cpus().length, memory_gib: round(totalmem() / 1024 ** 3, 1) },
    binary_bytes: statSync(binary).size,
    ...figures,
  };
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, `${id}.json`), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`${id}: ${JSON.stringify(figures)}`);
  return result;
}

/** One timeline line: seconds since `started`, and the upstream's calls in flight and done. */
async function sampleTimeline(upstreamUrl: string, started: number, into: string[]): Promise<void> {
  try {
    const stats = (await (await fetch(`${upstreamUrl}/stats`)).json()) as Record<string, number>;
    const at = ((performance.now() - started) / 1000).toFixed(2);
    into.push(`${at} s  model in flight ${stats["activeChat"]}, tools in flight ${stats["activeTool"]}; done: model ${stats["chat"]}, tools ${stats["tool"]}`);
  } catch {
    // the upstream is busy; skip this sample
  }
}

/** The figures of one B2 run. */
interface B2Figures {
  readonly per_turn_ms_mean: number;
  readonly per_turn_ms_p50: number;
  readonly per_turn_ms_p99: number;
  readonly [figure: string]: unknown;
}

/** One B2 run: 2,000 turns, one after another, on a fresh fake upstream and `skiff serve`. */
async function b2Once(): Promise<B2Figures> {
  const up = await upstream({ TOOL_CALLS: 3 });
  const server = await skiff(up);
  for (let i = 0; i < 300; i++) await postRun(server.base, "warm up");
  const turns = 2_000;
  const times: number[] = [];
  let errors = 0;
  const started = performance.now();
  for (let i = 0; i < turns && performance.now() - started < 60_000; i++) {
    const result = await postRun(server.base, `turn ${i}`);
    if (!result.ok) errors++;
    times.push(result.ms);
  }
  await server.proc.stop();
  await up.proc.stop();
  times.sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  return {
    turns: times.length,
    per_turn_ms_mean: round(mean, 3),
    per_turn_ms_p50: round(percentile(times, 50), 3),
    per_turn_ms_p99: round(percentile(times, 99), 3),
    errors,
    target_ms: 1.0,
    go_reference_ms: 1.0,
    note: "client-measured wall time of POST /v1/runs (HTTP in, 2 model calls, 3 HTTP tool calls, JSON out) with upstreams answering at once",
  };
}

/** The figures of one B4 run. */
interface B4Figures {
  readonly sessions: number;
  readonly wall_s: number;
  readonly p50_s: number;
  readonly p99_s: number;
  readonly errors: number;
  readonly bytes_per_session: number;
  readonly otel_spans_dropped: number;
  readonly [figure: string]: unknown;
}

/** One B4 run on a fresh fake upstream and a fresh `skiff serve`. */
async function b4Once(sessions: number): Promise<B4Figures> {
  const up = await upstream({ LLM_DELAY_MS: 1_000, TOOL_DELAY_MS: 1_000, TOOL_CALLS: 3 });
  const server = await skiff(up);
  for (let i = 0; i < 20; i++) await postRun(server.base, "warm up");
  Bun.gc(true);
  await Bun.sleep(500);
  const idle = memoryOf(server.proc.pid).rss;
  let peak = idle;
  let peakHeapUsed = 0;
  let peakHeapTotal = 0;
  const sampler = setInterval(() => {
    try {
      peak = Math.max(peak, memoryOf(server.proc.pid).rss);
    } catch {
      // process gone
    }
  }, 100);
  // The JS heap's share of the peak, from /metrics (sampled less often: it costs the server a little).
  const heapSampler = setInterval(async () => {
    try {
      const text = await (await fetch(`${server.base}/metrics`)).text();
      const gauge = (name: string) => Number(new RegExp(`^${name} (\\d+)`, "m").exec(text)?.[1] ?? 0);
      peakHeapUsed = Math.max(peakHeapUsed, gauge("skiff_js_heap_used_bytes"));
      peakHeapTotal = Math.max(peakHeapTotal, gauge("skiff_js_heap_total_bytes"));
    } catch {
      // busy or gone
    }
  }, 500);
  const cpuBefore = { skiff: cpuSecondsOf(server.proc.pid), upstream: cpuSecondsOf(up.proc.pid), driver: cpuSecondsOf(process.pid) };
  const started = performance.now();
  // B4_TIMELINE=1: the upstream's in-flight model and tool calls every 250 ms (where the slots go).
  const timeline: string[] = [];
  const timelineSampler = process.env["B4_TIMELINE"] === "1" ? setInterval(() => void sampleTimeline(up.url, started, timeline), 250) : undefined;
  const results = await Promise.all(Array.from({ length: sessions }, (_, i) => postRun(server.base, `session ${i}`)));
  const wall = performance.now() - started;
  // Where the two cores went: B4 is CPU-bound on this machine, shared by all three processes.
  const cpuSeconds = {
    skiff: round(cpuSecondsOf(server.proc.pid) - cpuBefore.skiff),
    upstream: round(cpuSecondsOf(up.proc.pid) - cpuBefore.upstream),
    driver: round(cpuSecondsOf(process.pid) - cpuBefore.driver),
  };
  const skiffThreads = threadCpuSecondsOf(server.proc.pid);
  clearInterval(sampler);
  clearInterval(heapSampler);
  if (timelineSampler) {
    clearInterval(timelineSampler);
    console.log(timeline.join("\n"));
  }
  const hwm = memoryOf(server.proc.pid).hwm;
  const stats = (await (await fetch(`${up.url}/stats`)).json()) as Record<string, number>;
  // Telemetry must keep up: spans dropped for a full export queue would flatter every figure above.
  const metricsText = await (await fetch(`${server.base}/metrics`)).text();
  const droppedSpans = Number(/^skiff_otel_spans_dropped_total (\d+)/m.exec(metricsText)?.[1] ?? Number.NaN);
  await server.proc.stop();
  await up.proc.stop();
  const times = results.map((r) => r.ms).sort((a, b) => a - b);
  const errors = results.filter((r) => !r.ok).length;
  const peakRss = Math.max(peak, hwm);
  return {
    sessions,
    wall_s: round(wall / 1000),
    p50_s: round(percentile(times, 50) / 1000),
    p99_s: round(percentile(times, 99) / 1000),
    errors,
    idle_rss_mib: mib(idle),
    peak_rss_mib: mib(peakRss),
    bytes_per_session: Math.round((peakRss - idle) / sessions),
    peak_js_heap_used_mib: mib(peakHeapUsed),
    peak_js_heap_total_mib: mib(peakHeapTotal),
    cpu_seconds: cpuSeconds,
    skiff_cpu_seconds_by_thread: skiffThreads,
    upstream_peak_concurrent_model_calls: stats["peakChat"],
    upstream_peak_concurrent_tool_calls: stats["peakTool"],
    otlp_exports_received: stats["traces"],
    otel_spans_dropped: droppedSpans,
  };
}

const scenarios: Record<string, () => Promise<Record<string, unknown>>> = {
  /** B1: RSS of an idle `skiff serve` (config loaded, telemetry on, no traffic). */
  async b1() {
    // The Bun floor agent compiled the same way, for what the runtime alone costs. Built first and
    // flushed to disk (sync) so writing its ~100 MB does not run under any measurement.
    const floorDir = mkdtempSync(join(tmpdir(), "skiff-bench-floor-"));
    tempDirs.push(floorDir);
    const floorBinary = join(floorDir, "floor-agent");
    const built = Bun.spawnSync([bun, "build", join(root, "bench", "floor-agent.ts"), "--compile", "--outfile", floorBinary], { stdout: "ignore", stderr: "pipe" });
    if (built.exitCode !== 0) throw new Error(`building the floor agent failed: ${built.stderr.toString()}`);
    Bun.spawnSync(["sync"]);

    const up = await upstream({});
    const server = await skiff(up);
    await Bun.sleep(2_000);
    const { rss, anon, file } = memoryOf(server.proc.pid);
    await server.proc.stop();

    const floorPort = freePort();
    const floor = start([floorBinary, "serve", "--listen", `127.0.0.1:${floorPort}`], { PATH: process.env["PATH"], UPSTREAM: up.url });
    cleanup.push(floor);
    await waitForOk(`http://127.0.0.1:${floorPort}/healthz`);
    await Bun.sleep(2_000);
    const floorMemory = memoryOf(floor.pid);
    await floor.stop();
    await up.proc.stop();
    return save("b1", {
      idle_rss_mib: mib(rss),
      rss_anon_mib: mib(anon),
      rss_file_mib: mib(file),
      bun_floor_idle_rss_mib: mib(floorMemory.rss),
      bun_floor_rss_anon_mib: mib(floorMemory.anon),
      target_mib: 40,
      go_reference_mib: 13,
    });
  },

  /**
   * B2: agent overhead per turn: instant fake model and tools, 2 model calls and 3 tools a turn.
   * Run B2_RUNS times (default 3) on fresh processes; the figures are those of the median run.
   */
  async b2() {
    const count = Math.max(1, Number(process.env["B2_RUNS"] ?? 3));
    const runs: B2Figures[] = [];
    for (let i = 0; i < count; i++) runs.push(await b2Once());
    const byMean = [...runs].sort((x, y) => x.per_turn_ms_mean - y.per_turn_ms_mean);
    return save("b2", {
      ...byMean[Math.floor((byMean.length - 1) / 2)]!,
      runs: runs.length,
      each_run: runs.map((r) => ({ per_turn_ms_mean: r.per_turn_ms_mean, per_turn_ms_p50: r.per_turn_ms_p50, per_turn_ms_p99: r.per_turn_ms_p99 })),
    });
  },

  /** B3: fan-out: one step of 8 tools that take 200 ms each. */
  async b3() {
    const up = await upstream({ TOOL_CALLS: 8, TOOL_DELAY_MS: 200 });
    const server = await skiff(up);
    for (let i = 0; i < 3; i++) await postRun(server.base, "warm up");
    const runs: number[] = [];
    const steps: number[] = [];
    for (let i = 0; i < 20; i++) {
      const result = await postRun(server.base, `fan out ${i}`);
      if (!result.ok || !result.body) throw new Error("b3 run failed");
      runs.push(result.ms);
      const step = result.body.steps[0]!;
      steps.push(step.duration_ms);
    }
    await server.proc.stop();
    runs.sort((a, b) => a - b);
    steps.sort((a, b) => a - b);
    return save("b3", {
      runs: runs.length,
      step_ms_median: round(percentile(steps, 50)),
      run_ms_median: round(percentile(runs, 50)),
      run_ms_max: round(runs.at(-1)!),
      target_ms: 210,
      go_reference_ms: 205,
    });
  },

  /**
   * B4: 10,000 concurrent sessions: model waits 1 s per call; one step of 3 HTTP tools of 1 s.
   * Run B4_RUNS times (default 3) on fresh processes, because this host is noisy: the figures are
   * those of the run with the median wall time, with every run's headline figures beside them.
   */
  async b4() {
    const sessions = Number(process.env["B4_SESSIONS"] ?? 10_000);
    const count = Math.max(1, Number(process.env["B4_RUNS"] ?? 3));
    const runs: B4Figures[] = [];
    for (let i = 0; i < count; i++) runs.push(await b4Once(sessions));
    const byWall = [...runs].sort((x, y) => x.wall_s - y.wall_s);
    const median = byWall[Math.floor((byWall.length - 1) / 2)]!;
    const range = (key: "wall_s" | "p50_s" | "p99_s" | "bytes_per_session") => [Math.min(...runs.map((r) => r[key])), Math.max(...runs.map((r) => r[key]))];
    return save("b4", {
      ...median,
      runs: runs.length,
      errors_all_runs: runs.reduce((sum, r) => sum + r.errors, 0),
      otel_spans_dropped_all_runs: runs.reduce((sum, r) => sum + r.otel_spans_dropped, 0),
      ranges: { wall_s: range("wall_s"), p50_s: range("p50_s"), p99_s: range("p99_s"), bytes_per_session: range("bytes_per_session") },
      each_run: runs.map((r) => ({ wall_s: r.wall_s, p50_s: r.p50_s, p99_s: r.p99_s, errors: r.errors, bytes_per_session: r.bytes_per_session })),
      targets: { wall_s: 8, bytes_per_session: 48 * 1024, errors: 0 },
      go_reference: { wall_s: 8.0, bytes_per_session: 95 * 1024 },
    });
  },

  /** B5: start-up: `skiff version` and `skiff ask --model demo`. */
  async b5() {
    const time = async (args: string[]) => {
      const samples: number[] = [];
      for (let i = 0; i < 20; i++) {
        const started = performance.now();
        const child = Bun.spawn([binary, ...args], { stdout: "ignore", stderr: "ignore", env: { PATH: process.env["PATH"] } });
        if ((await child.exited) !== 0) throw new Error(`skiff ${args.join(" ")} failed`);
        samples.push(performance.now() - started);
      }
      samples.sort((a, b) => a - b);
      return round(percentile(samples, 50));
    };
    return save("b5", {
      version_ms_median: await time(["version"]),
      ask_demo_ms_median: await time(["ask", "--model", "demo", "What time is it in Tokyo, and what is 17*23?"]),
      target_version_ms: 30,
    });
  },

  /** B6: binary size. */
  async b6() {
    return save("b6", { binary_bytes: statSync(binary).size, binary_mib: mib(statSync(binary).size) });
  },
};

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).map((a) => a.toLowerCase());
  const ids = wanted.length > 0 ? wanted : Object.keys(scenarios);
  for (const id of ids) if (!scenarios[id]) throw new Error(`unknown scenario "${id}"; known: ${Object.keys(scenarios).join(", ")}`);
  try {
    statSync(binary);
  } catch {
    throw new Error(`${binary} is missing: run ./build.sh first`);
  }
  const deadline = setTimeout(() => {
    console.error("bench: stopped after 10 minutes");
    process.exit(1);
  }, 10 * 60_000);
  try {
    for (const id of ids) await scenarios[id]!();
  } finally {
    clearTimeout(deadline);
    await Promise.all(cleanup.map((proc) => proc.stop(2_000)));
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
