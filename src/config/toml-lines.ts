/**
 * Finds the line of a key in TOML text, so errors can say `skiff.toml:12`. Bun's TOML parser
 * gives values, not positions; this scan covers the forms skiff's config uses (`key = …` or
 * `key.sub = …` under `[table]` or `[[array.of.tables]]`), and a table written as a header of its
 * own (`[sever]`, `[tools.sever]`, `[[sever]]`) when the path names the table itself.
 */
export function findTomlLine(text: string, path: readonly (string | number)[]): number | undefined {
  const lines = text.split(/\r?\n/);
  // Split the path into the table part and the final key, counting array-of-table indexes.
  const keyIndex = findLastStringIndex(path);
  if (keyIndex < 0) return undefined;
  const key = path[keyIndex] as string;
  const table = path.slice(0, keyIndex);
  const tableName = table.filter((p) => typeof p === "string").join(".");
  const wantedOccurrence = table.find((p) => typeof p === "number") as number | undefined;

  const ownTable = tableName === "" ? key : `${tableName}.${key}`;
  // `mcp[2]` as a whole: the third `[[mcp]]` header.
  const ownIndex = typeof path[keyIndex + 1] === "number" ? (path[keyIndex + 1] as number) : 0;
  let ownSeen = -1;
  let current = "";
  let occurrence = -1;
  let headerLine: number | undefined;
  let ownHeaderLine: number | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    const header = /^\[\[?\s*([^\]]+?)\s*\]\]?/.exec(line);
    if (header) {
      current = header[1]!;
      if (current === ownTable) ownSeen++;
      if (ownHeaderLine === undefined && (current === ownTable ? ownSeen === ownIndex : current.startsWith(`${ownTable}.`))) ownHeaderLine = i + 1;
      if (current === tableName && line.startsWith("[[")) occurrence++;
      if (current === tableName && (wantedOccurrence === undefined || occurrence === wantedOccurrence)) headerLine = i + 1;
      continue;
    }
    const inTable = current === tableName && (wantedOccurrence === undefined || occurrence === wantedOccurrence);
    if (!inTable) {
      // Dotted keys at the top level (`server.listen = …`) also count.
      const dotted = `${tableName}.${key}`;
      if (current === "" && tableName !== "" && new RegExp(`^"?${escape(dotted)}"?\\s*=`).test(line)) return i + 1;
      continue;
    }
    if (new RegExp(`^"?${escape(key)}"?\\s*[=.]`).test(line)) return i + 1;
  }
  return ownHeaderLine ?? headerLine;
}

/**
 * The line of a TOML syntax error. Bun's parser names none, so this parses ever longer prefixes of
 * the text (the error path only: a few hundred small parses at most) and returns the first line
 * whose prefix fails with the same message as the whole text. An array or string that is opened
 * and never closed is reported where it opens.
 */
export function tomlErrorLine(text: string, message: string, parse: (text: string) => unknown): number | undefined {
  const lines = text.split("\n");
  for (let count = 1; count <= lines.length; count++) {
    try {
      parse(`${lines.slice(0, count).join("\n")}\n`);
    } catch (error) {
      if (error instanceof Error && error.message === message) return count;
    }
  }
  return undefined;
}

/** A parser's error message as a sentence for people: without its prefix, and a newline named as such. */
export function tidyTomlMessage(message: string): string {
  return message.replace(/^TOML Parse error: /, "").replace(/\(0x0A\)/g, "the end of the line").replace(/\(0x0D\)/g, "a carriage return");
}

function findLastStringIndex(path: readonly (string | number)[]): number {
  for (let i = path.length - 1; i >= 0; i--) if (typeof path[i] === "string") return i;
  return -1;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
