import type { SecretSources } from "../../config/index.ts";

/** How one doctor check ended: `warn` is reported but does not fail the run; `skip` was not applicable. */
export type CheckStatus = "ok" | "warn" | "fail" | "skip";

/** The outcome of one check: what was found and, when it is not ok, what to change. */
export interface CheckResult {
  readonly status: CheckStatus;
  /** What was checked and found, e.g. `GET http://127.0.0.1:8000/v1/models → 200, 3 models`. */
  readonly detail: string;
  /** What to change when the check is not ok. */
  readonly fix?: string;
}

/** Capabilities a check may use; main.ts passes the real ones, tests their own. */
export interface CheckContext {
  readonly fetch: typeof fetch;
  /** Each check's time limit, in ms. */
  readonly timeoutMs: number;
  readonly secrets: SecretSources;
  /** The PATH programs are looked up in. */
  readonly path: string;
}

/**
 * One thing `skiff doctor` verifies. To add a check, write a factory returning DoctorCheck and
 * add it to `doctorChecks` in checks.ts.
 */
export interface DoctorCheck {
  /** Short label printed in the first column, e.g. `model`, `tool get_weather`. */
  readonly name: string;
  /** Never throws: a failure is a `fail` result that says what to fix. */
  run(context: CheckContext): Promise<CheckResult>;
}

/** Shorthands so checks read like the outcomes they report. */
export const result = {
  ok: (detail: string): CheckResult => ({ status: "ok", detail }),
  warn: (detail: string, fix: string): CheckResult => ({ status: "warn", detail, fix }),
  fail: (detail: string, fix: string): CheckResult => ({ status: "fail", detail, fix }),
  skip: (detail: string): CheckResult => ({ status: "skip", detail }),
};
