import type { Config, LoadedConfig } from "../config/index.ts";
import { ConfigError, formatIssue } from "../errors.ts";
import type { CheckContext, CheckResult, DoctorCheck } from "./doctor/check.ts";
import { ExitCode } from "./exit-codes.ts";
import type { Terminal } from "./io.ts";

/** What `skiff doctor` needs; main.ts passes the real capabilities. */
export interface DoctorOptions {
  /** Loads the configuration; throws ConfigError when it is invalid. */
  readonly load: () => LoadedConfig;
  readonly context: CheckContext;
  readonly terminal: Terminal;
  /** The checks for a config: `doctorChecks` with the real probes, or a test's own. */
  readonly checks: (config: Config) => DoctorCheck[];
}

const label: Record<CheckResult["status"], string> = { ok: "ok", warn: "WARN", fail: "FAIL", skip: "skip" };

/**
 * `skiff doctor`: checks the config, then runs every check at once and prints one line per check,
 * in a fixed order, with what to fix. Exit 0 when nothing failed, 1 when a check failed, 2 when the
 * config itself is invalid (then nothing else can be checked).
 */
export async function doctor(options: DoctorOptions): Promise<number> {
  const { terminal } = options;
  let loaded: LoadedConfig;
  try {
    loaded = options.load();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const issue of error.issues) {
      terminal.out(line("FAIL", "config", formatIssue(issue), "correct it; `skiff config check` shows the same"));
    }
    terminal.out("doctor: the configuration is invalid, so nothing else was checked\n");
    return ExitCode.usage;
  }

  const checks = options.checks(loaded.config);
  const width = Math.max("config".length, ...checks.map((check) => check.name.length));
  terminal.out(line("ok", "config".padEnd(width), loaded.file ? `file ${loaded.file}` : "no config file; flags, environment and defaults"));
  const results = await Promise.all(checks.map((check) => runSafely(check, options.context)));
  const counts = { ok: 1, warn: 0, fail: 0, skip: 0 };
  results.forEach((outcome, i) => {
    counts[outcome.status]++;
    terminal.out(line(label[outcome.status], checks[i]!.name.padEnd(width), outcome.detail, outcome.fix));
  });
  terminal.out(`doctor: ${counts.ok} ok, ${counts.warn} warning(s), ${counts.fail} failed, ${counts.skip} skipped\n`);
  return counts.fail > 0 ? ExitCode.runFailed : ExitCode.ok;
}

function line(status: string, name: string, detail: string, fix?: string): string {
  return `${status.padEnd(4)}  ${name}  ${detail}${fix ? ` — fix: ${fix}` : ""}\n`;
}

/** A check that throws is a bug in the check, reported as its failure rather than ending doctor. */
async function runSafely(check: DoctorCheck, context: CheckContext): Promise<CheckResult> {
  try {
    return await check.run(context);
  } catch (error) {
    return { status: "fail", detail: `the check itself failed: ${error instanceof Error ? error.message : String(error)}`, fix: "this is a bug in skiff doctor; please report it" };
  }
}
