/** Configuration: one zod schema, loaded from flags > env > TOML file > defaults. */
export { configSchema, type Config, type ConfigInput } from "./schema.ts";
export { loadConfig, dotted, type ConfigSources, type LoadedConfig, type LoadResult } from "./load.ts";
export { configLeaves, type ConfigLeaf } from "./leaves.ts";
export { resolveApiKey, resolveAuthToken, resolveSecretRef, readSecretFile, type SecretSources } from "./secrets.ts";
