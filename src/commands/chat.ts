import { chat } from "../cli/chat.ts";
import { type CommandContext, switchOn } from "../cli/commands.ts";
import { terminalRuntime } from "./terminal-runtime.ts";
import { listFlag } from "./line-asker.ts";
import { openChatSession } from "../wire-sessions.ts";

/** `skiff chat`: opens the `--session` store when named, builds the runtime, and reads stdin until /exit. */
export async function runChat(context: CommandContext): Promise<number> {
  const { config } = context.loadConfig();
  const { terminal } = context;
  const session = await openChatSession(context.flags.get("session"), config, { env: context.env, cwd: context.cwd }, terminal);
  const runtime = await terminalRuntime(context, config);
  try {
    return await chat({
      config,
      runtime,
      terminal,
      input: process.stdin,
      verbose: switchOn(context, "verbose"),
      onInterrupt: (handler) => {
        process.on("SIGINT", handler);
        return () => process.off("SIGINT", handler);
      },
      ...(session ? { session: session.chat } : {}),
      approvals: { required: config.tools.require_approval, preApproved: listFlag(context, "approve"), approveAll: switchOn(context, "yes") },
    });
  } finally {
    await runtime.shutdown();
    await session?.close();
  }
}
