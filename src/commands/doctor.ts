import type { CommandContext } from "../cli/commands.ts";
import { doctor } from "../cli/doctor.ts";
import { wireDoctorChecks } from "../wire-doctor.ts";

/** `skiff doctor`, with the real network and MCP client. An invalid config is its first finding, not an error. */
export async function runDoctor(context: CommandContext): Promise<number> {
  const { secrets, env } = context;
  return await doctor({
    load: context.loadConfig,
    checks: wireDoctorChecks({ secrets, env, cwd: context.cwd }),
    context: { fetch, timeoutMs: 5_000, secrets, path: env["PATH"] ?? "" },
    terminal: context.terminal,
  });
}
