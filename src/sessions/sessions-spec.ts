import { isAbsolute, join } from "node:path";
import { ConfigError } from "../errors.ts";

/** Which store `server.sessions` names, with relative paths already resolved. */
export type SessionsSpec = { readonly kind: "memory" } | { readonly kind: "sqlite"; readonly path: string };

/** Where relative paths are resolved: systemd's `$STATE_DIRECTORY` when set, else the working directory. */
export interface SpecContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/**
 * Reads `server.sessions`: `memory`, `sqlite:PATH` (relative to `$STATE_DIRECTORY` when systemd
 * sets it, else to the working directory), or nothing for `fallback`. Postgres is named but not in
 * this build yet, and says so.
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
  if (/^postgres(ql)?:\/\//.test(spec)) {
    throw invalid(spec, "Postgres session stores are not in this build yet; use sqlite:PATH (or memory) for now");
  }
  throw invalid(spec, 'expected "memory", "sqlite:PATH" or "postgres://…"');
}

/** The first directory of systemd's `$STATE_DIRECTORY` (it may list several, colon-separated). */
export function stateDirectory(env: SpecContext["env"]): string | undefined {
  const first = env["STATE_DIRECTORY"]?.split(":")[0];
  return first ? first : undefined;
}

function invalid(spec: string, message: string): ConfigError {
  return new ConfigError([{ path: "server.sessions", message: `${message} (got "${spec}")` }]);
}
