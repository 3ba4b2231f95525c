import { type CommandContext, switchOn } from "../cli/commands.ts";
import { runsCommand } from "../cli/runs-cmd.ts";
import { openConfiguredRunStore } from "../wire-sessions.ts";

/** `skiff runs list|show|cancel` over the configured store (`--sessions`, default serve's SQLite file). */
export async function runRuns(context: CommandContext): Promise<number> {
  const { config } = context.loadConfig();
  const [sub, ...args] = context.positionals;
  return await runsCommand({
    sub,
    args,
    json: switchOn(context, "json"),
    status: context.flags.get("status"),
    limit: context.flags.get("limit"),
    terminal: context.terminal,
    openStore: () => openConfiguredRunStore(config, { env: context.env, cwd: context.cwd }),
  });
}
