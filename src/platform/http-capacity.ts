/**
 * Makes room for many concurrent outbound HTTP requests in `skiff serve`.
 *
 * Bun's fetch runs at most 256 requests at once per process unless BUN_CONFIG_MAX_HTTP_REQUESTS
 * is in the environment when the process starts; setting it later (process.env, or setenv(3)
 * through FFI) changes nothing, as we measured. A service holding 10,000 sessions would queue
 * their model and tool calls 256 at a time. So when the variable is unset, `serve` raises its
 * open-file soft limit to the hard limit (as Go's runtime does) and replaces itself with itself
 * through execve(2): same PID (systemd and process supervisors see no change), same argv, same
 * environment plus the variable, sized from the open-file limit so outbound sockets can never
 * exhaust the descriptors that inbound clients need. If anything here fails, skiff carries on
 * with Bun's default and says so.
 */
import { FFIType, ptr } from "bun:ffi";
import { readFileSync } from "node:fs";
import { openLibc } from "./libc.ts";

/** The environment variable Bun reads once, at start-up. */
export const maxHttpRequestsVariable = "BUN_CONFIG_MAX_HTTP_REQUESTS";

/** Bun's default when the variable is unset. */
export const bunDefaultMaxHttpRequests = 256;

/**
 * Outbound requests in flight at once for a given open-file limit: 45 % of it (the rest is for
 * inbound clients, files and pipes), at least Bun's default and at most 65,535.
 */
export function outboundCapacity(openFileLimit: number): number {
  return Math.max(bunDefaultMaxHttpRequests, Math.min(65_535, Math.floor(openFileLimit * 0.45)));
}

/** Why re-exec did not happen, for one warning line; undefined when it is not needed. */
export type CapacityOutcome =
  | { readonly kind: "already_set"; readonly value: string }
  | { readonly kind: "unsupported"; readonly reason: string };

const rlimitNofile = process.platform === "darwin" ? 8 : 7;

function openProcessLibc() {
  return openLibc({
    getrlimit: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
    setrlimit: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
    execve: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  });
}

/** The argv this process was started with, exactly (from /proc where there is one). */
function originalArgv(): string[] {
  try {
    const raw = readFileSync("/proc/self/cmdline", "utf8");
    const parts = raw.split("\0");
    if (parts.at(-1) === "") parts.pop();
    if (parts.length > 0) return parts;
  } catch {
    // not Linux
  }
  // A compiled binary sees its embedded entry as argv[1]; the real arguments follow it.
  const compiled = process.argv[1]?.startsWith("/$bunfs/") ?? false;
  return [process.execPath, ...process.argv.slice(compiled ? 2 : 1)];
}

/** NUL-terminated C strings and a NULL-terminated pointer array over them (kept alive by the caller). */
function cStringArray(items: readonly string[], keep: Buffer[]): BigUint64Array {
  const array = new BigUint64Array(items.length + 1);
  items.forEach((item, i) => {
    const buffer = Buffer.from(`${item}\0`);
    keep.push(buffer);
    array[i] = BigInt(ptr(buffer));
  });
  return array;
}

/**
 * Re-executes this process with BUN_CONFIG_MAX_HTTP_REQUESTS set, after raising the open-file
 * soft limit. Returns only when it did not re-exec (and says why); on success it never returns.
 */
export function ensureHttpCapacity(env: Readonly<Record<string, string | undefined>> = process.env): CapacityOutcome {
  const preset = env[maxHttpRequestsVariable];
  if (preset !== undefined && preset !== "") return { kind: "already_set", value: preset };
  if (process.platform === "win32") return { kind: "unsupported", reason: "re-exec is not available on Windows" };
  try {
    const libc = openProcessLibc();
    const limits = new BigUint64Array(2);
    if (libc.symbols.getrlimit(rlimitNofile, ptr(limits)) !== 0) throw new Error("getrlimit failed");
    if (limits[0]! < limits[1]!) {
      // Raise the soft limit to the hard one; the raised limit survives execve.
      const raised = new BigUint64Array([limits[1]!, limits[1]!]);
      if (libc.symbols.setrlimit(rlimitNofile, ptr(raised)) === 0) limits[0] = limits[1]!;
    }
    const openFiles = limits[0]! > 1_000_000n ? 1_000_000 : Number(limits[0]!);
    const capacity = outboundCapacity(openFiles);
    const keep: Buffer[] = [];
    const argv = cStringArray(originalArgv(), keep);
    const envp = cStringArray(
      [
        ...Object.entries(env)
          .filter(([, value]) => value !== undefined)
          .map(([key, value]) => `${key}=${value}`),
        `${maxHttpRequestsVariable}=${capacity}`,
      ],
      keep,
    );
    const path = Buffer.from(`${process.execPath}\0`);
    libc.symbols.execve(ptr(path), ptr(argv), ptr(envp));
    return { kind: "unsupported", reason: "execve failed" };
  } catch (error) {
    return { kind: "unsupported", reason: error instanceof Error ? error.message : String(error) };
  }
}
