/**
 * Composition of `skiff doctor`: its checks with the real MCP client behind the MCP probe. Like
 * wire.ts, only the command's run (commands/doctor.ts) imports it: it is where doctor meets a
 * concrete adapter.
 */
import { buildInfo } from "./build-info.ts";
import { type DoctorProbes, doctorChecks } from "./cli/doctor/checks.ts";
import type { DoctorCheck } from "./cli/doctor/check.ts";
import type { Config, SecretSources } from "./config/index.ts";
import { McpConnection } from "./tools/mcp/mcp-connection.ts";

export interface DoctorWiring {
  readonly secrets: SecretSources;
  /** skiff's environment and working directory, as the agent would start MCP servers with them. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/** The checks doctor runs for a config, with probes that use the same clients as the agent. */
export function wireDoctorChecks(wiring: DoctorWiring): (config: Config) => DoctorCheck[] {
  return (config) => {
    const probes: DoctorProbes = {
      // The same connection the agent opens (same environment filter, cwd, start_timeout), then closed.
      mcp: async (entry) => {
        const connection = new McpConnection(entry, {
          secrets: wiring.secrets,
          defaultTimeoutMs: config.tool_timeout,
          env: wiring.env,
          cwd: wiring.cwd,
          clientInfo: { name: "skiff-doctor", version: buildInfo.version },
        });
        try {
          return (await connection.listTools()).map((tool) => tool.name);
        } finally {
          await connection.close();
        }
      },
    };
    return doctorChecks(config, probes);
  };
}
