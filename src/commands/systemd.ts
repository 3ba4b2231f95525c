import type { CommandContext } from "../cli/commands.ts";
import { ExitCode } from "../cli/exit-codes.ts";
import { printSystemdUnit, selfCommand } from "../cli/systemd-cmd.ts";

/** `skiff systemd`: the unit for this binary (or `--binary`) with the given flags and config. */
export async function runSystemd(context: CommandContext): Promise<number> {
  const loaded = context.loadConfig();
  printSystemdUnit({
    command: context.command,
    flags: context.flags,
    loaded,
    env: context.env,
    cwd: context.cwd,
    terminal: context.terminal,
    self: selfCommand(process.execPath, Bun.main),
  });
  return ExitCode.ok;
}
