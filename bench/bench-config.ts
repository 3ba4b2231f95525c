/** The `skiff serve` config the benchmarks write: the fake upstream as the model and as one HTTP tool. */

export interface BenchConfig {
  /** The fake upstream's base URL (bench/fake-upstream.ts). */
  readonly upstream: string;
  /** `server.sessions`. */
  readonly sessions: string;
  /** Export spans to the fake upstream's OTLP endpoint, as production would. */
  readonly otel: boolean;
  /** More top-level keys (timeouts). */
  readonly top?: readonly string[];
  /** More `[server]` keys. */
  readonly server?: readonly string[];
  /** `[tools]` keys, when any. */
  readonly tools?: readonly string[];
}

/** The TOML text of `config`; its `[[tools.http]]` "lookup" is what the fake upstream's model asks for. */
export function benchConfigToml(config: BenchConfig): string {
  const { upstream } = config;
  return [
    `model = "bench-model"`,
    `base_url = "${upstream}/v1"`,
    ...(config.top ?? []),
    ...(config.otel ? [`[otel]`, `endpoint = "${upstream}"`] : []),
    `[server]`,
    `sessions = "${config.sessions}"`,
    `log_level = "warn"`,
    ...(config.server ?? []),
    ...(config.tools === undefined ? [] : [`[tools]`, ...config.tools]),
    `[[tools.http]]`,
    `name = "lookup"`,
    `description = "Looks an item up"`,
    `url = "${upstream}/tool"`,
    `parameters = { type = "object", properties = { q = { type = "string" } }, required = ["q"] }`,
  ].join("\n");
}
