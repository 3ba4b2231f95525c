import { type Config, readSecretFile, resolveApiKey, resolveSecretRef } from "../../config/index.ts";
import { type DoctorCheck, result } from "./check.ts";
import { type McpProbe, mcpCheck } from "./mcp-check.ts";
import { modelCheck } from "./model-check.ts";
import { otlpCheck } from "./otlp-check.ts";
import { commandToolCheck, httpToolCheck } from "./tool-checks.ts";

/** Probes that need adapters, passed in by main.ts. */
export interface DoctorProbes {
  readonly mcp: McpProbe;
}

/**
 * Every check `skiff doctor` runs for a config, in the order it prints them: the model endpoint and
 * its fallbacks, the OTLP collector, then each declared tool and MCP server. Add new checks here.
 */
export function doctorChecks(config: Config, probes: DoctorProbes): DoctorCheck[] {
  return [
    ...modelChecks(config),
    otlpCheck(config.otel),
    ...config.tools.http.map((tool, index) => httpToolCheck(tool, index)),
    ...config.tools.command.map((tool) => commandToolCheck(tool)),
    ...config.mcp.map((entry) => mcpCheck(entry, probes.mcp)),
  ];
}

function modelChecks(config: Config): DoctorCheck[] {
  const primary: DoctorCheck =
    config.model === "demo"
      ? { name: "model", run: async () => result.ok("demo: the built-in offline model; nothing to reach") }
      : modelCheck({
          name: "model",
          model: config.model,
          baseUrl: config.base_url,
          apiKey: (context) => resolveApiKey(config.api_key_file, context.secrets),
          where: "base_url (--base-url, SKIFF_BASE_URL, OPENAI_BASE_URL or skiff.toml)",
          keyFrom: "api_key_file (--api-key-file, SKIFF_API_KEY_FILE or skiff.toml), then the OPENAI_API_KEY environment variable",
        });
  const fallbacks = config.fallback.map((entry, index) =>
    modelCheck({
      name: `fallback[${index}]`,
      model: entry.model,
      baseUrl: entry.base_url,
      apiKey: (context) =>
        entry.api_key_file
          ? readSecretFile(entry.api_key_file, `fallback[${index}].api_key_file`, context.secrets)
          : entry.api_key_env
            ? resolveSecretRef(`env:${entry.api_key_env}`, `fallback[${index}].api_key_env`, context.secrets)
            : undefined,
      where: `base_url of [[fallback]] ${index + 1} in skiff.toml`,
      keyFrom: `api_key_file, then api_key_env, of [[fallback]] ${index + 1}`,
    }),
  );
  return [primary, ...fallbacks];
}
