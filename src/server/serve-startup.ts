import { type Config, resolveAuthToken, type SecretSources } from "../config/index.ts";
import { parseSessionsSpec, type SessionsSpec } from "../sessions/index.ts";
import { checkExposure, type ListenAddress, parseListen } from "./listen.ts";

/** What `skiff serve` reads from its config before it opens or starts anything. */
export interface ServeStartup {
  readonly address: ListenAddress;
  /** The bearer token clients must send, when one is set. */
  readonly token: string | undefined;
  readonly sessions: SessionsSpec;
}

/**
 * Reads `server.listen`, the bearer token and `server.sessions`, and refuses an address beyond
 * this machine without a token or keys. Throws the ConfigError `serve` stops with; `skiff config check`
 * calls it too, so a config it passes gets this far.
 */
export function serveStartup(config: Config, secrets: SecretSources, cwd: string): ServeStartup {
  const address = parseListen(config.server.listen);
  const token = resolveAuthToken(config.server.auth_token_file, secrets);
  checkExposure(address, token !== undefined || config.server.keys.length > 0);
  const sessions = parseSessionsSpec(config.server.sessions, "sqlite", { env: secrets.env, cwd });
  return { address, token, sessions };
}
