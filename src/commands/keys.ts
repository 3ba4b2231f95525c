import { type CommandContext, switchOn } from "../cli/commands.ts";
import { keysCommand } from "../cli/keys-cmd.ts";

/** `skiff keys new|hash`: needs no config; the key never leaves this process but on the terminal. */
export async function runKeys(context: CommandContext): Promise<number> {
  const [sub, ...args] = context.positionals;
  return await keysCommand({ sub, args, json: switchOn(context, "json"), terminal: context.terminal });
}
