import { isAbsolute, join } from "node:path";
import { ConfigError, configIssue } from "../errors.ts";
import { redactUrl } from "../util/redact-url.ts";

/** Which store `server.sessions` names, with relative paths already resolved. */
export type SessionsSpec =
  | { readonly kind: "memory" }
  | { readonly kind: "sqlite"; readonly path: string }
  /** `url` may hold a password: print it only through redactUrl. */
  | { readonly kind: "postgres"; readonly url: string };

/** Where relative paths are resolved: systemd's `$STATE_DIRECTORY` when set, else the working directory. */
export interface SpecContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/**
 * Reads `server.sessions`: `memory`, `sqlite:PATH` (relative to `$STATE_DIRECTORY` when systemd
 * sets it, else to the working directory), `postgres://…`/`postgresql://…`, or nothing for
 * `fallback`. Errors never repeat a URL's password.
 */
export function parseSessionsSpec(spec: string | undefined, fallback: SessionsSpec["kind"], context: SpecContext): SessionsSpec {
  const base = stateDirectory(context.env) ?? context.cwd;
  if (spec === undefined) return fallback === "memory" ? { kind: "memory" } : { kind: "sqlite", path: join(base, "skiff.db") };
  if (spec === "memory") return { kind: "memory" };
  if (spec.startsWith("sqlite:")) {
    const path = spec.slice("sqlite:".length);
    if (path === "") throw invalid(spec, 'sqlite: needs a file path, e.g. "sqlite:skiff.db"');
    return { kind: "sqlite", path: isAbsolute(path) ? path : join(base, path) };
  }
  if (/^postgres(ql)?:\/\//i.test(spec)) return { kind: "postgres", url: checkPostgresUrl(spec) };
  throw invalid(spec, 'expected "memory", "sqlite:PATH" or "postgres://…"');
}

function checkPostgresUrl(spec: string): string {
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    throw invalid(spec, "is not a valid URL; expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (percent-encode special characters in the password)");
  }
  const socket = ["host", "path", "socket"].some((name) => url.searchParams.has(name));
  if (url.hostname === "" && !socket) throw invalid(spec, "names no host; expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE");
  return spec;
}

/** The first directory of systemd's `$STATE_DIRECTORY` (it may list several, colon-separated). */
export function stateDirectory(env: SpecContext["env"]): string | undefined {
  const first = env["STATE_DIRECTORY"]?.split(":")[0];
  return first ? first : undefined;
}

function invalid(spec: string, message: string): ConfigError {
  return new ConfigError([configIssue("server.sessions", `${message} (got "${redactUrl(spec)}")`, { code: "invalid_value" })]);
}
