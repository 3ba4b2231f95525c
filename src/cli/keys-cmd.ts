import { minAuthTokenLength } from "../config/secrets.ts";
import { apiKeyEntry } from "../config/sections/api-keys.ts";
import { UsageError } from "../errors.ts";
import { hashApiKey, newApiKey } from "../server/api-key.ts";
import { ExitCode } from "./exit-codes.ts";
import type { Terminal } from "./io.ts";

/** What `skiff keys` is run with. */
export interface KeysCommandInput {
  readonly sub: string | undefined;
  readonly args: readonly string[];
  readonly json: boolean;
  readonly terminal: Terminal;
  /** A new key; injected so tests can pin it. */
  readonly newKey?: () => string;
}

/**
 * `skiff keys new NAME`: a fresh random key and the `[[server.keys]]` entry with its hash. The key
 * goes to stderr and the entry to stdout, so `skiff keys new app >> skiff.toml` appends the entry
 * and shows the key once, on the terminal, without writing it anywhere. `skiff keys hash`: the
 * hash of a key read from stdin (a key made elsewhere).
 */
export async function keysCommand(input: KeysCommandInput): Promise<number> {
  const { terminal } = input;
  if (input.sub === "new") {
    const name = input.args[0];
    if (name === undefined || input.args.length > 1) throw new UsageError("usage: skiff keys new NAME (one name: letters, digits, _ . -)");
    const named = apiKeyEntry.shape.name.safeParse(name);
    if (!named.success) throw new UsageError(`"${name}" cannot name a key: ${named.error.issues[0]?.message ?? "invalid"}`);
    const key = (input.newKey ?? newApiKey)();
    const hash = hashApiKey(key);
    const toml = `[[server.keys]]\nname = ${JSON.stringify(name)}\nhash = "${hash}"\n`;
    if (input.json) {
      terminal.out(`${JSON.stringify({ name, key, hash, toml })}\n`);
      return ExitCode.ok;
    }
    terminal.err(`New key for "${name}", shown only now (skiff keeps only its hash; give it to the client as its bearer token):\n${key}\n\n`);
    terminal.out(toml);
    terminal.err("\nAdd the entry above to the config's [server] keys (limits: docs/keys.md), then reload: systemctl reload skiff, or kill -HUP the server.\n");
    return ExitCode.ok;
  }
  if (input.sub === "hash") {
    if (terminal.stdinIsTTY) throw new UsageError("skiff keys hash reads the key from stdin: skiff keys hash < KEYFILE (not typed, so it stays out of the shell history)");
    const key = (await terminal.readStdin()).trim();
    if (key.length < minAuthTokenLength) throw new UsageError(`the key on stdin is ${key.length} characters long; a key needs at least ${minAuthTokenLength} random characters (skiff keys new makes one)`);
    terminal.out(`${hashApiKey(key)}\n`);
    return ExitCode.ok;
  }
  throw new UsageError(`keys needs a subcommand: new or hash${input.sub ? ` (got "${input.sub}")` : ""}`);
}
