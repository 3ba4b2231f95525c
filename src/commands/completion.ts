import type { CommandContext } from "../cli/commands.ts";
import { completionScript } from "../cli/completion.ts";
import { ExitCode } from "../cli/exit-codes.ts";

/** `skiff completion bash|zsh|fish`. It never loads the config. */
export async function runCompletion(context: CommandContext): Promise<number> {
  context.terminal.out(completionScript(context.positionals[0]));
  return ExitCode.ok;
}
