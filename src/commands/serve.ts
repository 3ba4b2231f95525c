import type { CommandContext } from "../cli/commands.ts";
import { bunDefaultMaxHttpRequests, ensureHttpCapacity, maxHttpRequestsVariable } from "../platform/http-capacity.ts";

/**
 * `skiff serve`. Re-executes itself first when Bun's outbound request cap needs raising, before
 * the config is read or the server code is loaded (platform/http-capacity.ts): this only goes on
 * when no re-exec was needed or possible, so the config is read once, by the process that serves.
 */
export async function runServe(context: CommandContext): Promise<number> {
  const capacity = ensureHttpCapacity(context.env);
  if (capacity.kind === "unsupported") {
    context.terminal.err(
      `skiff: warn: outbound HTTP requests stay limited to ${bunDefaultMaxHttpRequests} at once (${capacity.reason}); set ${maxHttpRequestsVariable} in the service's environment to raise it\n`,
    );
  }
  const { config } = context.loadConfig();
  const { serveCommand } = await import("../wire-serve.ts");
  return await serveCommand({
    config,
    secrets: context.secrets,
    cwd: context.cwd,
    write: context.terminal.err,
    onSignal: (handler) => {
      process.on("SIGTERM", () => handler("SIGTERM"));
      process.on("SIGINT", () => handler("SIGINT"));
    },
    onReload: (handler) => {
      process.on("SIGHUP", handler);
    },
    reloadConfig: () => context.loadConfig().config,
  });
}
