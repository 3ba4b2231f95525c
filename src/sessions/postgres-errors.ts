/** What Postgres (or Bun's client) said, as a message a person can act on, never with a password. */
import { redactUrl } from "../util/redact-url.ts";

/** The server's or Bun's message with its code, and what to check for the common failures. */
export function describePostgresError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = "errno" in error && typeof error.errno === "string" ? error.errno : "code" in error && typeof error.code === "string" ? error.code : undefined;
  const hint = code === undefined ? undefined : hints[code];
  return `${redactUrl(error.message)}${code ? ` (${code})` : ""}${hint ? `; ${hint}` : ""}`;
}

const hints: Readonly<Record<string, string>> = {
  ERR_POSTGRES_CONNECTION_REFUSED: "is PostgreSQL running and reachable at that host and port?",
  ERR_POSTGRES_CONNECTION_TIMEOUT: "is the host right, and does a firewall let the connection through?",
  ERR_POSTGRES_TLS_NOT_AVAILABLE: "the server offers no TLS: enable ssl on it, or drop sslmode=require from the URL on a trusted network",
  "28P01": "check the password (in the URL, or PGPASSWORD when the URL has none)",
  "28000": "the server refused this user or address (pg_hba.conf), or the role does not exist",
  "3D000": "create the database (createdb NAME) or name an existing one in the URL",
  "42501": "the user needs CREATE on the database's schema to set up skiff's tables, and read/write on them",
};
