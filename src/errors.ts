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

/**
 * What kind of problem an issue is, so a program can act on it without reading the message.
 * `invalid_type` and `invalid_value` are zod's own codes; `unknown_key` is zod's `unrecognized_keys`.
 */
export const issueCodes = [
  /** A value of the wrong type: text where a number or true/false belongs. */
  "invalid_type",
  /** The right type but not an accepted value: out of range, badly formed, not one of the choices. */
  "invalid_value",
  /** A key or section skiff does not know. */
  "unknown_key",
  /** Something needed is not set, or is set to nothing (an empty secret file). */
  "missing",
  /** What a setting names does not exist: a file, program, directory, environment variable, tool. */
  "not_found",
  /** Settings that exclude each other, or two things with one name. */
  "conflict",
  /** It exists but cannot be used: a store that will not open, an address that cannot be bound. */
  "unavailable",
] as const;

/** One of `issueCodes`. */
export type IssueCode = (typeof issueCodes)[number];

/** Keys and list indexes from the top of the configuration, e.g. `["server", "keys", 0, "tools"]`. */
export type IssuePath = readonly (string | number)[];

/** One problem found in configuration or a request: what kind, where, and what would be right. */
export interface Issue {
  readonly code: IssueCode;
  /**
   * Where: `["max_steps"]`, `["server", "keys", 0, "tools"]`. Entries of `[[tools.http]]`,
   * `[[tools.command]]` and `[[mcp]]` are named by their `name`: `["tools", "http", "search", "argv", 0]`.
   * Empty for the configuration as a whole. `formatIssuePath` writes it as people read it.
   */
  readonly path: IssuePath;
  /** Where the value came from: `flag --max-steps`, `env SKIFF_MAX_STEPS`, `skiff.toml:12`, `default`. */
  readonly source?: string;
  readonly message: string;
}

// Lists whose entries issues name by `name` rather than position; the name prints in brackets.
const namedLists = new Set(["tools.http", "tools.command", "mcp"]);

/**
 * An issue at a path written as people read it (`tools.http[search].argv[0]`, parsed by
 * `parseIssuePath`), or given as segments when one is a user's own key that may hold `.` or `[`.
 * @example configIssue("server.listen", `"[${host}]" is not an IPv6 address`, { code: "invalid_value" })
 */
export function configIssue(path: string | IssuePath, message: string, options: { readonly code: IssueCode; readonly source?: string | undefined }): Issue {
  const segments = typeof path === "string" ? parseIssuePath(path) : path;
  return { code: options.code, path: segments, ...(options.source === undefined ? {} : { source: options.source }), message };
}

/** Splits `a.b[c][0]` into `["a", "b", "c", 0]`: bracketed digits are indexes, anything else a key. */
export function parseIssuePath(text: string): (string | number)[] {
  return [...text.matchAll(/\[([^\]]*)\]|[^.[\]]+/g)].map(([whole, bracketed]) =>
    bracketed === undefined ? whole : /^\d+$/.test(bracketed) ? Number(bracketed) : bracketed,
  );
}

/** Writes a path as people read it: `tools.http[search].argv[0]`, `server.keys[0].tools`; "config" when empty. */
export function formatIssuePath(path: IssuePath): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number" || namedLists.has(text)) text += `[${segment}]`;
    else text = text ? `${text}.${segment}` : segment;
  }
  return text || "config";
}

/** One issue as a line: `server.listen (flag --listen): expected HOST:PORT …`. */
export function formatIssue(issue: Issue): string {
  return `${formatIssuePath(issue.path)}${issue.source ? ` (${issue.source})` : ""}: ${issue.message}`;
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
    return issues.map(formatIssue).join("\n");
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
