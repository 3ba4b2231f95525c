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

/** How one kind of store opens on each kind of database. */
export interface StoreOpeners<S> {
  readonly memory: () => S;
  readonly sqlite: (path: string) => S;
  readonly postgres: (url: string) => Promise<S>;
}

/**
 * Opens a store on the database `spec` names: the sessions, and the runs and keys' counters that
 * live beside them, each migrating its own schema. A database that cannot be opened (missing
 * directory, unreachable server, schema newer than this binary), which the store reports as a
 * `StoreError`, is a ConfigError on `server.sessions` (exit code 2): the setting, or what it
 * points at, needs fixing.
 */
export async function openStoreFor<S>(spec: SessionsSpec, openers: StoreOpeners<S>, StoreError: abstract new (...args: never[]) => Error): Promise<S> {
  try {
    switch (spec.kind) {
      case "memory":
        return openers.memory();
      case "sqlite":
        return openers.sqlite(spec.path);
      case "postgres":
        return await openers.postgres(spec.url);
      default: {
        const unknown: never = spec;
        throw new Error(`unknown store ${JSON.stringify(unknown)}`);
      }
    }
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    throw new ConfigError([configIssue("server.sessions", error.message, { code: "unavailable" })], { cause: error });
  }
}
