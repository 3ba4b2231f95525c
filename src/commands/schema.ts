import type { CommandContext } from "../cli/commands.ts";
import { ExitCode } from "../cli/exit-codes.ts";
import { printSchema } from "../cli/schema-cmd.ts";
import { UsageError } from "../errors.ts";

/** `skiff schema result|event|config`: needs no config, so it works anywhere. */
export async function runSchema(context: CommandContext): Promise<number> {
  if (context.positionals.length > 1) throw new UsageError(`schema takes one name: skiff schema result | event | config (got ${context.positionals.join(" ")})`);
  printSchema(context.positionals[0] ?? "", context.terminal);
  return ExitCode.ok;
}
