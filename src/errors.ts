/**
 * Every error skiff raises on purpose is a SkiffError with a stable `code`.
 * Edges map them to exit codes (cli/) and HTTP statuses (server/); anything else is a bug.
 */
export class SkiffError extends Error {
  /** Stable machine-readable identifier, safe to match on. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** One problem found in configuration or a request: where, and what would be right. */
export interface Issue {
  /** Dotted key path, e.g. `server.listen` or `max_steps`. */
  readonly path: string;
  /** Where the value came from: `flag --max-steps`, `env SKIFF_MAX_STEPS`, `skiff.toml:12`, `default`. */
  readonly source?: string;
  readonly message: string;
}

/**
 * Skiff's own fault: a bug, or a dependency that broke a promise it made (not the caller's, not the
 * model's). The CLI exits 1 and says it is a bug; the HTTP service answers 500 and logs it.
 */
export class SystemError extends SkiffError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("internal_error", message, options);
  }
}

/** The caller gave bad configuration (flag, env var, config file). Exit code 2. */
export class ConfigError extends SkiffError {
  readonly issues: readonly Issue[];

  constructor(issues: readonly Issue[], options?: { cause?: unknown }) {
    super("config_invalid", ConfigError.describe(issues), options);
    this.issues = issues;
  }

  private static describe(issues: readonly Issue[]): string {
    return issues
      .map((issue) => `${issue.path || "config"}${issue.source ? ` (${issue.source})` : ""}: ${issue.message}`)
      .join("\n");
  }
}

/** The command line itself is wrong (unknown command, missing argument). Exit code 2. */
export class UsageError extends SkiffError {
  constructor(message: string) {
    super("usage", message);
  }
}

/** The model provider failed: network, HTTP status, or a reply we cannot use, after retries. */
export class ModelError extends SkiffError {
  /** HTTP status when the provider answered, otherwise undefined (connection error, timeout). */
  readonly status: number | undefined;
  /** Whether another attempt could succeed (5xx, 429, connection, timeout). */
  readonly retryable: boolean;
  /** How long the provider asked us to wait, in ms, when it said so. */
  readonly retryAfterMs: number | undefined;

  constructor(
    message: string,
    options: { status?: number; retryable: boolean; retryAfterMs?: number; code?: string; cause?: unknown },
  ) {
    super(options.code ?? "model_error", message, { cause: options.cause });
    this.status = options.status;
    this.retryable = options.retryable;
    this.retryAfterMs = options.retryAfterMs;
  }
}
