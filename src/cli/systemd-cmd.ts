import { buildInfo } from "../build-info.ts";
import type { LoadedConfig } from "../config/index.ts";
import { type CommandSpec, flagsOf } from "./commands.ts";
import type { Terminal } from "./io.ts";
import { renderUnit } from "./systemd.ts";

export interface SystemdCommandOptions {
  readonly command: CommandSpec;
  readonly flags: ReadonlyMap<string, string>;
  readonly loaded: LoadedConfig;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly terminal: Terminal;
  /** How this process was started: the compiled binary, or bun and the entry script. */
  readonly self: readonly string[];
}

/** `skiff systemd`: the unit (with `--socket`, also skiff.socket) on stdout, warnings on stderr. */
export function printSystemdUnit(options: SystemdCommandOptions): void {
  const binary = options.flags.get("binary");
  const { text, warnings } = renderUnit({
    exec: binary === undefined ? options.self : [binary],
    flags: options.flags,
    switches: new Set(flagsOf(options.command).filter((flag) => !flag.takesValue).map((flag) => flag.name)),
    config: options.loaded.config,
    configFile: options.loaded.file,
    cwd: options.cwd,
    version: buildInfo.version,
    env: options.env,
    socket: options.flags.get("socket") === "true",
  });
  for (const warning of warnings) options.terminal.err(`skiff: warning: ${warning}\n`);
  options.terminal.out(text);
}

/** The command line that starts this very program: the compiled binary, or `bun run <script>` from source. */
export function selfCommand(execPath: string, mainScript: string): string[] {
  // A compiled binary's entry lives in Bun's embedded file system.
  return mainScript.startsWith("/$bunfs/") || mainScript.startsWith("B:/~BUN/") ? [execPath] : [execPath, "run", mainScript];
}
