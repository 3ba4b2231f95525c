import { type CommandContext, switchOn } from "../cli/commands.ts";
import { ExitCode } from "../cli/exit-codes.ts";
import { callTool, listTools } from "../cli/tools-cmd.ts";
import { UsageError } from "../errors.ts";
import { buildTools } from "../wire.ts";
import { withInterrupt } from "./with-interrupt.ts";

/** `skiff tools list|call`: builds the configured tools, lists them or runs one, then closes them. */
export async function runTools(context: CommandContext): Promise<number> {
  const { config } = context.loadConfig();
  const [sub, name, args] = context.positionals;
  if (sub !== "list" && sub !== "call") throw new UsageError(`tools needs a subcommand: list or call${sub ? ` (got "${sub}")` : ""}`);
  const { tools, close } = await buildTools(config, context.secrets);
  try {
    if (sub === "list") listTools(tools, switchOn(context, "json"), context.terminal);
    else await withInterrupt((signal) => callTool(name, args, tools, config, context.terminal, signal));
  } finally {
    await close();
  }
  return ExitCode.ok;
}
