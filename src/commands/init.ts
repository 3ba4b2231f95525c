import type { CommandContext } from "../cli/commands.ts";
import { ExitCode } from "../cli/exit-codes.ts";
import { initConfig, writeNewFile } from "../cli/init.ts";

/** `skiff init [PATH]`. It never loads the config: it works whatever the current one says. */
export async function runInit(context: CommandContext): Promise<number> {
  const [given] = context.positionals;
  const configFlag = context.flags.get("config");
  const path = given ?? configFlag ?? context.env["SKIFF_CONFIG"] ?? "skiff.toml";
  initConfig({ path, foundByDefault: given === undefined && configFlag === undefined, terminal: context.terminal, writeNew: writeNewFile });
  return ExitCode.ok;
}
