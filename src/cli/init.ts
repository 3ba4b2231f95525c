import { writeFileSync } from "node:fs";
import { UsageError } from "../errors.ts";
import { configTemplate } from "./config-template.ts";
import type { Terminal } from "./io.ts";

/** What `skiff init` needs; file access is passed in so tests can use their own. */
export interface InitOptions {
  /** Where to write: the PATH argument, else --config, else SKIFF_CONFIG, else ./skiff.toml. */
  readonly path: string;
  /** Whether later commands find the file by themselves (./skiff.toml or SKIFF_CONFIG) or need --config. */
  readonly foundByDefault: boolean;
  readonly terminal: Terminal;
  /** Writes the file only if it does not exist yet; returns false when it already does. */
  readonly writeNew: (path: string, text: string) => boolean;
}

/**
 * `skiff init`: writes a commented skiff.toml that `skiff config check` accepts, set to the offline
 * demo model so the next commands work at once. It never overwrites a file.
 */
export function initConfig(options: InitOptions): void {
  if (!options.writeNew(options.path, configTemplate())) {
    throw new UsageError(`${options.path} already exists; skiff init never overwrites a file. Remove it first, or give another path: skiff init other.toml`);
  }
  const config = options.foundByDefault ? "" : ` --config ${options.path}`;
  options.terminal.out(
    [
      `wrote ${options.path} (model "demo": the built-in offline model)`,
      "next:",
      `  skiff doctor${config}    (checks the config and reaches every endpoint)`,
      `  skiff ask${config} "what is 17*23?"    (a first run)`,
      `  then set model and base_url in ${options.path} for a real endpoint, and run skiff doctor again`,
      "",
    ].join("\n"),
  );
}

/** Creates a file that must not exist yet (O_EXCL, so two inits cannot both win); false if it exists. */
export function writeNewFile(path: string, text: string): boolean {
  try {
    writeFileSync(path, text, { flag: "wx", mode: 0o644 });
    return true;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === "EEXIST") return false;
    const reason = code === "ENOENT" ? "its directory does not exist" : code === "EACCES" ? "permission denied" : String(code ?? error);
    throw new UsageError(`cannot write ${path}: ${reason}; choose another path: skiff init PATH`);
  }
}
