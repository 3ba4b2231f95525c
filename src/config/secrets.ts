import { ConfigError, configIssue, type IssuePath } from "../errors.ts";

/** How secrets are read: injected so tests need no real environment. */
export interface SecretSources {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly readFile: (path: string) => string | undefined;
}

/**
 * Resolves a value that may name a secret: "env:NAME" reads a variable, "file:PATH" a file
 * (trimmed), anything else is taken literally. Errors name the key (`tools.http[search].headers`,
 * or segments when the last is a user's own name) and the source, never a value.
 */
export function resolveSecretRef(ref: string, key: string | IssuePath, sources: SecretSources): string {
  if (ref.startsWith("env:")) {
    const name = ref.slice(4);
    const value = sources.env[name];
    if (value === undefined || value === "") {
      throw new ConfigError([configIssue(key, `refers to the environment variable ${name}, which is not set`, { code: "not_found" })]);
    }
    return value;
  }
  if (ref.startsWith("file:")) return readSecretFile(ref.slice(5), key, sources);
  return ref;
}

/** Reads a secret file, trimmed; a missing or empty file is a ConfigError naming the key. */
export function readSecretFile(path: string, key: string | IssuePath, sources: SecretSources): string {
  const text = sources.readFile(path);
  if (text === undefined) throw new ConfigError([configIssue(key, `the file "${path}" does not exist or cannot be read`, { code: "not_found" })]);
  const value = text.trim();
  if (value === "") throw new ConfigError([configIssue(key, `the file "${path}" is empty`, { code: "missing" })]);
  return value;
}

/** The model API key: `api_key_file`, else OPENAI_API_KEY, else undefined (local endpoints need none). */
export function resolveApiKey(apiKeyFile: string | undefined, sources: SecretSources): string | undefined {
  if (apiKeyFile) return readSecretFile(apiKeyFile, "api_key_file", sources);
  const fromEnv = sources.env["OPENAI_API_KEY"];
  return fromEnv === undefined || fromEnv === "" ? undefined : fromEnv;
}

/** Shortest bearer token accepted: a guessable token is no protection. */
export const minAuthTokenLength = 16;

/**
 * The server's bearer token: `server.auth_token_file`, else SKIFF_AUTH_TOKEN, else undefined.
 * A token shorter than 16 characters is refused; errors never show the token.
 */
export function resolveAuthToken(authTokenFile: string | undefined, sources: SecretSources): string | undefined {
  let token: string | undefined;
  let where: string;
  if (authTokenFile) {
    token = readSecretFile(authTokenFile, "server.auth_token_file", sources);
    where = `the file "${authTokenFile}"`;
  } else {
    const fromEnv = sources.env["SKIFF_AUTH_TOKEN"]?.trim();
    token = fromEnv === undefined || fromEnv === "" ? undefined : fromEnv;
    where = "SKIFF_AUTH_TOKEN";
  }
  if (token !== undefined && token.length < minAuthTokenLength) {
    throw new ConfigError([
      configIssue(
        "server.auth_token_file",
        `the token in ${where} is ${token.length} characters long; use at least ${minAuthTokenLength} random characters (e.g. openssl rand -hex 32)`,
        { code: "invalid_value" },
      ),
    ]);
  }
  return token;
}
