/**
 * A bundle-time macro (imported `with { type: "macro" }` by assets.ts): it reads the console's
 * page and stylesheet and compiles its client (client/main.ts, plain TypeScript) for the browser
 * with the same Bun that builds skiff. `bun build --compile` inlines what it returns, so the binary
 * carries the console as three strings and none of this code; run from source (`bun src/main.ts`,
 * tests), it runs when assets.ts is first loaded.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** The console's files as text. */
export interface ConsoleTexts {
  readonly html: string;
  readonly css: string;
  readonly script: string;
  readonly icon: string;
}

/** Longest the client's compilation may take before the build fails. */
const compileTimeoutMs = 60_000;

/** Reads the static files and compiles the client; throws (failing the build) when it does not compile. */
export function buildConsoleTexts(): ConsoleTexts {
  const dir = import.meta.dir;
  // Bun.build cannot run inside a macro while the bundler waits for it; its CLI can (Bun's advice).
  const compiled = Bun.spawnSync(
    [process.execPath, "build", join(dir, "client", "main.ts"), "--target=browser", "--format=esm", "--minify", "--no-macros"],
    { stdout: "pipe", stderr: "pipe", timeout: compileTimeoutMs, env: { ...process.env, NO_COLOR: "1" } },
  );
  if (compiled.exitCode !== 0) {
    throw new Error(`compiling the console client (src/server/console/client/main.ts) failed (exit ${compiled.exitCode ?? compiled.signalCode}): ${compiled.stderr.toString()}`);
  }
  return {
    html: readFileSync(join(dir, "console.html"), "utf8"),
    css: readFileSync(join(dir, "console.css"), "utf8"),
    script: compiled.stdout.toString(),
    icon: readFileSync(join(dir, "icon.svg"), "utf8"),
  };
}
