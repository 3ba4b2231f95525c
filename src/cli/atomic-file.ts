import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { UsageError } from "../errors.ts";

/** Text written to a file that appears whole at `finish()` or not at all. */
export interface FileSink {
  write(text: string): void;
  /** Flushes, syncs and renames the file into place. */
  finish(): void;
  /** Removes what was written; the target is left as it was. */
  abort(): void;
}

/** Bytes buffered before a write(2). */
const bufferLimit = 256 * 1024;

/**
 * Writes to `PATH.partial-PID` (mode 0600: it holds conversations) and renames it to `path` when
 * done, so an export that fails half way never leaves a truncated file that looks like a backup.
 */
export function atomicFileSink(path: string): FileSink {
  const temp = `${path}.partial-${process.pid}`;
  let fd: number;
  try {
    fd = openSync(temp, "wx", 0o600);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const reason = code === "ENOENT" ? "its directory does not exist" : code === "EACCES" ? "permission denied" : String(code ?? error);
    throw new UsageError(`cannot write ${path}: ${reason}; choose another --output PATH`);
  }
  let buffered: string[] = [];
  let size = 0;
  const flush = () => {
    if (buffered.length === 0) return;
    writeSync(fd, buffered.join(""));
    buffered = [];
    size = 0;
  };
  return {
    write(text) {
      buffered.push(text);
      size += text.length;
      if (size >= bufferLimit) flush();
    },
    finish() {
      flush();
      fsyncSync(fd);
      closeSync(fd);
      renameSync(temp, path);
    },
    abort() {
      closeSync(fd);
      rmSync(temp, { force: true });
    },
  };
}
