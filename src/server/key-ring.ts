/**
 * Who may call the service: the `[[server.keys]]` entries (each a client with its own name,
 * limits and tools) and the single bearer token (`server.auth_token_file` / SKIFF_AUTH_TOKEN).
 * `replace` swaps both at once, which is what SIGHUP does: requests already authenticated keep
 * the key they were let in with, and every later request, and every later step of a running
 * run, sees the new set.
 */
import { timingSafeEqual } from "node:crypto";
import { approvalPolicy } from "../agent/approval.ts";
import type { ApiKeyEntry } from "../config/sections/api-keys.ts";
import type { Tool } from "../tools/tool.ts";
import { bearerOf, digest, unauthorized } from "./auth.ts";

/** One client key as the service enforces it. */
export interface ApiKey {
  readonly name: string;
  /** Sees every key's usage in GET /v1/usage. */
  readonly admin: boolean;
  readonly requestsPerMinute: number | undefined;
  readonly maxConcurrent: number | undefined;
  readonly tokensPerDay: number | undefined;
  readonly costPerDay: number | undefined;
  /**
   * The tools its runs are offered, or undefined for every tool. One array per key for as long as
   * the key set lasts, so the loop indexes it once (it caches indexes by array).
   */
  readonly tools: readonly Tool[] | undefined;
}

/** Who sent a request: a key, the single token, or anybody (no credential is configured). */
export type Caller = { readonly kind: "key"; readonly key: ApiKey } | { readonly kind: "token" } | { readonly kind: "open" };

// Shared: a request without a key allocates no caller.
const openCaller: Caller = { kind: "open" };
const tokenCaller: Caller = { kind: "token" };

/** What a key set is made from. */
export interface KeyRingSource {
  readonly keys: readonly ApiKeyEntry[];
  /** The single bearer token, when one is set. */
  readonly token?: string | undefined;
}

/** The current credentials; built once per config (start, and each reload). */
export class KeyRing {
  #byHash = new Map<string, ApiKey>();
  #byName = new Map<string, ApiKey>();
  #token: Buffer | undefined;
  readonly #allTools: readonly Tool[];

  constructor(source: KeyRingSource, tools: readonly Tool[]) {
    this.#allTools = tools;
    this.replace(source);
  }

  /** Swaps in a new set of keys and token (SIGHUP). */
  replace(source: KeyRingSource): void {
    const byHash = new Map<string, ApiKey>();
    const byName = new Map<string, ApiKey>();
    for (const entry of source.keys) {
      const key = apiKeyOf(entry, this.#allTools);
      byHash.set(entry.hash, key);
      byName.set(key.name, key);
    }
    this.#byHash = byHash;
    this.#byName = byName;
    this.#token = source.token === undefined ? undefined : digest(source.token);
  }

  /** True when requests to /v1/ must carry a credential. */
  get required(): boolean {
    return this.#token !== undefined || this.#byHash.size > 0;
  }

  /** How many keys are configured. */
  get size(): number {
    return this.#byName.size;
  }

  /** Names of the configured keys, in config order. */
  get names(): readonly string[] {
    return [...this.#byName.keys()];
  }

  /** The key of that name as configured now, or undefined once it was removed. */
  get(name: string): ApiKey | undefined {
    return this.#byName.get(name);
  }

  /**
   * Who sent `req`, or 401. The single token is compared in constant time; a key is looked up by
   * its SHA-256, which tells a timing observer nothing about any key (it would have to steer the
   * hash of its guesses).
   */
  authenticate(req: Request): Caller {
    if (!this.required) return openCaller;
    const presented = digest(bearerOf(req));
    if (this.#token !== undefined && timingSafeEqual(presented, this.#token)) return tokenCaller;
    const key = this.#byHash.get(`sha256:${presented.toString("hex")}`);
    if (key !== undefined) return { kind: "key", key };
    throw unauthorized("the bearer token is not valid (not the service's token, nor a configured key; a removed key is refused once the server reloads)");
  }
}

function apiKeyOf(entry: ApiKeyEntry, allTools: readonly Tool[]): ApiKey {
  return {
    name: entry.name,
    admin: entry.admin,
    requestsPerMinute: entry.requests_per_minute,
    maxConcurrent: entry.max_concurrent,
    tokensPerDay: entry.tokens_per_day,
    costPerDay: entry.cost_per_day,
    tools: entry.tools === undefined ? undefined : allTools.filter(matcherOf(entry.tools)),
  };
}

/** Matches tools by exact name or `*` glob, as `tools.require_approval` does. */
function matcherOf(patterns: readonly string[]): (tool: Tool) => boolean {
  const matches = approvalPolicy(patterns);
  return (tool) => matches(tool.name);
}
