/**
 * SIGHUP for `skiff serve`: the config is read again and its credentials take effect at once,
 * `[[server.keys]]` (added, removed, limits and tools changed) and the single bearer token (its
 * file read again). Nothing else changes without a restart: the listener, stores, model, tools and
 * telemetry are built once, and swapping them under runs in flight is not safe. A config that does
 * not load, or keys that do not fit it, change nothing: the keys in use stay, and the log says why.
 */
import { type Config, resolveAuthToken, type SecretSources } from "../config/index.ts";
import { ConfigError } from "../errors.ts";
import type { Logger } from "./logger.ts";
import { keyConfigIssues } from "./key-checks.ts";
import type { KeyRing } from "./key-ring.ts";
import { checkExposure, type ListenAddress } from "./listen.ts";

/** What a reload needs. */
export interface KeyReloadOptions {
  readonly keys: KeyRing;
  /** Reads the config again (flags, environment, file), throwing ConfigError when it is invalid. */
  readonly load: () => Config;
  /** The config the server started with: other settings are compared with it, to warn. */
  readonly started: Config;
  readonly secrets: SecretSources;
  /** Where the server listens: beyond loopback, a reload may not leave it without credentials. */
  readonly address: ListenAddress;
  /** Names of the service's tools, which keys' `tools` must name. */
  readonly toolNames: readonly string[];
  readonly logger: Logger;
}

/** Returns the reload to run on each SIGHUP; it never throws. */
export function keyReloader(options: KeyReloadOptions): () => void {
  const { keys, logger } = options;
  return () => {
    let config: Config;
    let token: string | undefined;
    try {
      config = options.load();
      token = resolveAuthToken(config.server.auth_token_file, options.secrets);
      checkExposure(options.address, token !== undefined || config.server.keys.length > 0);
      const issues = keyConfigIssues(config, { names: options.toolNames });
      if (issues.length > 0) throw new ConfigError(issues);
    } catch (error) {
      // ConfigError messages name keys, files and lines, never a secret's value.
      const reason = error instanceof Error ? error.message : String(error);
      logger.log("warn", "reload failed; the keys and token in use stay", { reason });
      return;
    }
    const before = new Set(keys.names);
    keys.replace({ keys: config.server.keys, token });
    const after = new Set(keys.names);
    logger.log("info", "keys reloaded", {
      keys: after.size,
      added: [...after].filter((name) => !before.has(name)).join(",") || undefined,
      removed: [...before].filter((name) => !after.has(name)).join(",") || undefined,
      token: token === undefined ? "none" : "set",
    });
    if (otherSettings(config) !== otherSettings(options.started)) {
      logger.log("warn", "settings besides server.keys and the auth token changed in the config; they take effect after a restart");
    }
  };
}

/** The config without what a reload applies, for comparison. */
function otherSettings(config: Config): string {
  const { keys: _keys, auth_token_file: _token, ...server } = config.server;
  return JSON.stringify({ ...config, server });
}
