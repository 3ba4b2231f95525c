/**
 * Reading, writing and fstat on a raw descriptor (one that openat gave, so there is no FileHandle),
 * off the event loop: node's callback `fs` functions run them on the thread pool.
 */
import { fstat, fsync, read, type Stats, write } from "node:fs";

/** fstat(2) of `fd`. */
export function fstatFd(fd: number): Promise<Stats> {
  return new Promise((resolve, reject) => fstat(fd, (error, stats) => (error ? reject(error) : resolve(stats))));
}

/** Reads up to `buffer.length` bytes at `position`; the number read. */
export function readFd(fd: number, buffer: Uint8Array, position: number): Promise<number> {
  return new Promise((resolve, reject) =>
    read(fd, buffer, 0, buffer.length, position, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead))),
  );
}

/** Writes all of `data` from the descriptor's current offset, however many write(2) calls it takes. */
export async function writeAllFd(fd: number, data: Uint8Array): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const offset = done;
    const written = await new Promise<number>((resolve, reject) =>
      write(fd, data, offset, data.length - offset, null, (error, count) => (error ? reject(error) : resolve(count))),
    );
    if (written === 0) throw Object.assign(new Error("write: no progress"), { code: "EIO" });
    done += written;
  }
}

/** fsync(2): the file's data and metadata on disk. */
export function syncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (error) => (error ? reject(error) : resolve())));
}
