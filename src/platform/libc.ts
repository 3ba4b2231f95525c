/**
 * The C library through bun:ffi, for the few system calls Bun does not expose (execve, setrlimit,
 * listen on an existing socket). glibc first, then musl's loader names, then macOS's libSystem.
 */
import { dlopen, type FFIFunction } from "bun:ffi";
import { existsSync } from "node:fs";

function libcCandidates(): string[] {
  if (process.platform === "darwin") return ["/usr/lib/libSystem.B.dylib"];
  const arch = process.arch === "arm64" ? "aarch64" : "x86_64";
  return ["libc.so.6", `/lib/ld-musl-${arch}.so.1`, `libc.musl-${arch}.so.1`];
}

/** Opens the C library with `symbols`; throws when none of the candidates loads. */
export function openLibc<Symbols extends Record<string, FFIFunction>>(symbols: Symbols) {
  let lastError: unknown;
  for (const name of libcCandidates()) {
    if (name.startsWith("/") && !existsSync(name)) continue;
    try {
      return dlopen(name, symbols);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError ?? new Error("no C library found");
}
