import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * The temporary directories of one test file: `make` creates one, `removeAll` (in afterEach)
 * deletes every one made so far.
 *
 * @example
 * const { make: tempDir, removeAll: removeTempDirs } = createTempDirs("skiff-cli-");
 * afterEach(removeTempDirs);
 */
export function createTempDirs(prefix: string) {
  const made: string[] = [];
  return {
    /** A new empty directory named after the prefix, under `parent` (created if missing; default the system's). */
    make(options: { readonly parent?: string; readonly prefix?: string } = {}): string {
      const parent = options.parent ?? tmpdir();
      mkdirSync(parent, { recursive: true });
      const dir = mkdtempSync(join(parent, options.prefix ?? prefix));
      made.push(dir);
      return dir;
    },
    removeAll(): void {
      for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
}
