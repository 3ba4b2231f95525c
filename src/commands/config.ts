import type { CommandContext } from "../cli/commands.ts";
import { checkConfig, printConfigSchema, showConfig } from "../cli/config-cmd.ts";
import { ExitCode } from "../cli/exit-codes.ts";
import { UsageError } from "../errors.ts";

/**
 * `skiff config check|show|schema`. The config is loaded first, so each fails on any issue; `check`
 * then runs every start-up check of the commands (checkStartup), so exit 0 means `serve` starts.
 */
export async function runConfig(context: CommandContext): Promise<number> {
  const loaded = context.loadConfig();
  const sub = context.positionals[0];
  if (sub === "check") {
    const { checkStartup } = await import("../wire-check.ts");
    await checkStartup(loaded.config, { secrets: context.secrets, cwd: context.cwd });
    checkConfig(loaded, context.terminal);
  } else if (sub === "show") showConfig(loaded, context.env, context.terminal);
  else if (sub === "schema") printConfigSchema(context.terminal);
  else throw new UsageError(`config needs a subcommand: check, show or schema${sub ? ` (got "${sub}")` : ""}`);
  return ExitCode.ok;
}
