/**
 * A failed file system call below the fs tools: `code` is the errno name ("ELOOP", "ENOENT"…), as in
 * node's errors, and the message names only the call, never a path, so nothing built from one can
 * show a host path to the model.
 */
export class FsCallError extends Error {
  constructor(
    readonly code: string,
    readonly syscall: string,
  ) {
    super(`${syscall}: ${code}`);
    this.name = "FsCallError";
  }
}
