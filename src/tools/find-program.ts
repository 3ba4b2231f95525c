import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";

/** Where a program was found, or why it was not (a sentence naming the program). */
export type ProgramLookup = { readonly ok: true; readonly file: string } | { readonly ok: false; readonly problem: string };

/**
 * Finds a program the way a spawn does: a name with a `/` is a path (relative to `cwd`), any other
 * name is looked up on `pathVariable`. Command tools and MCP servers both use it at start-up, and
 * `skiff config check` through them, so a typo fails with the same words wherever it is found.
 */
export function findProgram(name: string, pathVariable: string | undefined, cwd: string): ProgramLookup {
  if (name.includes("/")) {
    const file = isAbsolute(name) ? name : resolve(cwd, name);
    return existsSync(file) ? { ok: true, file } : { ok: false, problem: `the program "${file}" does not exist` };
  }
  const found = Bun.which(name, { PATH: pathVariable ?? "", cwd });
  if (found === null) {
    return { ok: false, problem: `the program "${name}" is not on PATH (${pathVariable ?? "unset"}); install it or give its absolute path` };
  }
  return { ok: true, file: found };
}
