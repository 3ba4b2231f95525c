/**
 * `skiff sessions export | import`: every session as JSONL (one session per line), so history can
 * be backed up, moved between stores (SQLite → Postgres) and carried across any upgrade.
 */
import { SkiffError, UsageError } from "../errors.ts";
import { type ImportResult, parseSessionLine, SessionExistsError, type SessionStore, sessionToJsonLine, type StoredSession } from "../sessions/index.ts";
import { readLines } from "../util/read-lines.ts";
import type { FileSink } from "./atomic-file.ts";
import type { Terminal } from "./io.ts";

/** An import input that is not valid, or would overwrite sessions: nothing was imported. Exit code 1. */
export class SessionsImportError extends SkiffError {
  constructor(message: string) {
    super("sessions_import", message);
  }
}

/** What `skiff sessions` needs; main.ts wires the real store, files and stdin. */
export interface SessionsCommandInput {
  readonly sub: string | undefined;
  /** Positionals after the subcommand: import's FILE. */
  readonly args: readonly string[];
  /** `--output PATH` of export; stdout when absent. */
  readonly output: string | undefined;
  /** `--replace` of import. */
  readonly replace: boolean;
  readonly terminal: Terminal;
  /** Opens the configured store; an export must not create an empty one. */
  readonly openStore: (purpose: "export" | "import") => Promise<SessionStore>;
  /** The bytes of import's FILE, or of stdin for "-". */
  readonly openInput: (path: string) => ReadableStream<Uint8Array>;
  readonly openOutput: (path: string) => FileSink;
}

/** Runs `skiff sessions export|import`; resolves to the exit code. */
export async function sessionsCommand(input: SessionsCommandInput): Promise<number> {
  const { sub } = input;
  if (sub !== "export" && sub !== "import") {
    throw new UsageError(`sessions needs a subcommand: export or import${sub ? ` (got "${sub}")` : ""}`);
  }
  if (sub === "export" && input.args.length > 0) throw new UsageError(`sessions export takes no arguments; write to a file with --output PATH (got "${input.args[0]}")`);
  if (sub === "import" && input.args.length > 1) throw new UsageError(`sessions import takes one FILE (or - for stdin), got ${input.args.length}`);
  const source = sub === "import" ? importSource(input) : "";
  const store = await input.openStore(sub);
  try {
    if (sub === "export") await exportAll(store, input);
    else await importAll(store, source, input);
  } finally {
    await store.close();
  }
  return 0;
}

function importSource(input: SessionsCommandInput): string {
  const path = input.args[0];
  if (path !== undefined && path !== "-") return path;
  if (input.terminal.stdinIsTTY) {
    throw new UsageError("sessions import reads JSONL from a FILE or from stdin; give a FILE, or pipe one in: skiff sessions import < sessions.jsonl");
  }
  return "-";
}

async function exportAll(store: SessionStore, input: SessionsCommandInput): Promise<void> {
  const file = input.output === undefined ? undefined : input.openOutput(input.output);
  const write = file ? (text: string) => file.write(text) : input.terminal.out;
  let count = 0;
  try {
    for await (const session of store.exportSessions()) {
      write(`${sessionToJsonLine(session)}\n`);
      count++;
    }
    file?.finish();
  } catch (error) {
    file?.abort();
    throw error;
  }
  input.terminal.err(`exported ${count} session${count === 1 ? "" : "s"} from ${store.description}${input.output ? ` to ${input.output}` : ""}\n`);
}

async function importAll(store: SessionStore, source: string, input: SessionsCommandInput): Promise<void> {
  const name = source === "-" ? "stdin" : source;
  const firstLine = new Map<string, number>();
  let lineNumber = 0;
  async function* sessions(): AsyncGenerator<StoredSession> {
    for await (const text of readLines(input.openInput(source))) {
      lineNumber++;
      if (text.trim() === "") continue;
      const parsed = parseSessionLine(text);
      if (!parsed.ok) throw new SessionsImportError(`${name} line ${lineNumber}: ${parsed.message}; nothing was imported`);
      const first = firstLine.get(parsed.session.id);
      if (first !== undefined) {
        throw new SessionsImportError(`${name} line ${lineNumber}: session "${parsed.session.id}" appears a second time (first on line ${first}); nothing was imported`);
      }
      firstLine.set(parsed.session.id, lineNumber);
      yield parsed.session;
    }
  }
  let result: ImportResult;
  try {
    result = await store.importSessions(sessions(), { replace: input.replace });
  } catch (error) {
    if (!(error instanceof SessionExistsError)) throw error;
    throw new SessionsImportError(
      `${name} line ${firstLine.get(error.sessionId) ?? lineNumber}: session "${error.sessionId}" already exists in ${store.description}; ` +
        "nothing was imported. Pass --replace to overwrite existing sessions with the imported ones",
    );
  }
  const replaced = result.replaced > 0 ? ` (${result.replaced} replaced)` : "";
  input.terminal.err(`imported ${result.imported} session${result.imported === 1 ? "" : "s"}${replaced} into ${store.description}\n`);
}
