/**
 * The compiled binary under test. `skiffBinary()` builds dist/skiff once per test process when it
 * is missing or older than any source file (CI builds it before the tests, so this is a no-op there).
 */
import { existsSync, mkdirSync, readdirSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** Absolute path of the project root. */
export const projectRoot = resolve(import.meta.dir, "../..");

/** Absolute path of the compiled binary. */
export const binaryPath = join(projectRoot, "dist", "skiff");

let built: Promise<string> | undefined;

function newestSourceMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSourceMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds dist/skiff if needed and returns its path. */
export function skiffBinary(): Promise<string> {
  built ??= (async () => {
    const stale =
      !existsSync(binaryPath) ||
      statSync(binaryPath).mtimeMs < Math.max(newestSourceMtime(join(projectRoot, "src")), statSync(join(projectRoot, "package.json")).mtimeMs);
    if (stale && process.env["SKIFF_E2E_NO_BUILD"] !== "1") {
      const build = Bun.spawn(["./build.sh"], { cwd: projectRoot, stdout: "pipe", stderr: "pipe" });
      const code = await build.exited;
      if (code !== 0) throw new Error(`./build.sh failed (${code}): ${await new Response(build.stderr).text()}`);
    }
    return binaryPath;
  })();
  return built;
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Runs the binary to completion with the given args, env and stdin; bounded by `timeoutMs`. */
export async function runSkiff(
  args: readonly string[],
  options: { env?: Record<string, string | undefined>; cwd?: string; stdin?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  const binary = await skiffBinary();
  const started = performance.now();
  const child = Bun.spawn([binary, ...args], {
    cwd: options.cwd ?? projectRoot,
    env: options.env ?? cleanEnv(),
    stdin: options.stdin === undefined ? "ignore" : new Blob([options.stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 20_000);
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  clearTimeout(timer);
  return { code, stdout, stderr, ms: performance.now() - started };
}

/**
 * An environment with nothing of the developer's shell that could change skiff: no OPENAI_*,
 * OTEL_* or SKIFF_* variables, and a PATH without node or bun (the binary needs neither).
 */
export function cleanEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { PATH: noRuntimePath(), HOME: process.env["HOME"] ?? "/tmp", LANG: "C.UTF-8" };
  return { ...env, ...extra };
}

/** Basic programs command tools may need; deliberately no node, npm or bun. */
const basicPrograms = ["sh", "bash", "sleep", "cat", "echo", "printf", "grep", "true", "false", "env", "ls", "kill", "ps", "head", "tail"];

/** A PATH directory holding links to basic programs only, so the binary is shown to need no JS runtime. */
export function noRuntimePath(): string {
  const dir = join(tmpdir(), "skiff-e2e-path");
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true });
    for (const program of basicPrograms) {
      const found = ["/usr/bin", "/bin"].map((d) => join(d, program)).find((p) => existsSync(p));
      if (found) {
        try {
          symlinkSync(found, join(dir, program));
        } catch {
          // Another test process made it first.
        }
      }
    }
  }
  return dir;
}
