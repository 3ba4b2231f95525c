/**
 * API keys as `skiff serve` knows them: random secrets handed to clients once, kept in the config
 * only as their SHA-256 (`sha256:<hex>`). A plain hash, no salt or stretching: a key is 256 random
 * bits, so no dictionary or brute force can reach it, and the server hashes every request's key.
 */
import { createHash, randomBytes } from "node:crypto";

/** What every key begins with: recognisable in a leak (secret scanners) and in a client's config. */
export const apiKeyPrefix = "skiff_";

/** A new key: the prefix and 32 random bytes, base64url (49 characters in all). */
export function newApiKey(): string {
  return `${apiKeyPrefix}${randomBytes(32).toString("base64url")}`;
}

/** The form `[[server.keys]]` holds: `sha256:` and the hex SHA-256 of the key's UTF-8 bytes. */
export function hashApiKey(key: string): string {
  return `sha256:${createHash("sha256").update(key).digest("hex")}`;
}
