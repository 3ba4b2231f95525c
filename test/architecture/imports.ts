/**
 * Reads the import statements of TypeScript source, for the layering tests: static imports and
 * re-exports (`import … from`, `import "…"`, `export … from`), dynamic `import("…")` and
 * `require("…")`, each with
 * whether it is type-only (erased when compiled). A small lexer skips comments, string and template
 * contents and regular expressions, so an import written inside a comment or a string is not one.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve, dirname } from "node:path";

/** One import of a module. */
export interface ImportRef {
  /** The specifier as written: `./tool.ts`, `openai`, `node:fs`. */
  readonly specifier: string;
  /** `require("x")` loads at once, like a static import, but from inside code. */
  readonly kind: "static" | "dynamic" | "require";
  /** `import type …`, `export type …`, or named imports that are all `type`: nothing is loaded. */
  readonly typeOnly: boolean;
  /** Names bound by a static import (`{ sql, SQL as Pg }` → sql, SQL); empty for `* as` and side effects. */
  readonly names: readonly string[];
}

/** A piece of code: a word (identifier, keyword, number), a string's value, or one punctuation character. */
export type Token = { readonly type: "word" | "string" | "punct" | "template"; readonly text: string };

const regexMayFollow = new Set(["return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case", "do", "else", "yield", "await"]);

/** Splits source into words, strings and punctuation; comments, template text and regexes are dropped. */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  // Open template literals: each entry counts the `{` seen inside its current `${…}`.
  const templates: number[] = [];
  let i = 0;
  const regexAllowed = () => {
    const last = tokens.at(-1);
    if (!last) return true;
    if (last.type === "word") return regexMayFollow.has(last.text);
    if (last.type === "punct") return ![")", "]", "}"].includes(last.text);
    return false;
  };
  const readTemplateText = () => {
    // From just after "`" or "}" to the closing "`" or the next "${".
    while (i < source.length) {
      const c = source[i]!;
      if (c === "\\") i += 2;
      else if (c === "`") {
        i++;
        templates.pop();
        tokens.push({ type: "template", text: "`" });
        return;
      } else if (c === "$" && source[i + 1] === "{") {
        i += 2;
        return;
      } else i++;
    }
  };
  while (i < source.length) {
    const c = source[i]!;
    if (/\s/.test(c)) i++;
    else if (c === "/" && source[i + 1] === "/") {
      while (i < source.length && source[i] !== "\n") i++;
    } else if (c === "/" && source[i + 1] === "*") {
      const end = source.indexOf("*/", i + 2);
      i = end < 0 ? source.length : end + 2;
    } else if (c === '"' || c === "'") {
      let text = "";
      i++;
      while (i < source.length && source[i] !== c) {
        if (source[i] === "\\") {
          text += source[i + 1];
          i += 2;
        } else text += source[i++];
      }
      i++;
      tokens.push({ type: "string", text });
    } else if (c === "`") {
      i++;
      templates.push(0);
      readTemplateText();
    } else if (c === "{" && templates.length > 0) {
      templates[templates.length - 1]!++;
      tokens.push({ type: "punct", text: c });
      i++;
    } else if (c === "}" && templates.length > 0 && templates.at(-1) === 0) {
      i++;
      readTemplateText();
    } else if (c === "}" && templates.length > 0) {
      templates[templates.length - 1]!--;
      tokens.push({ type: "punct", text: c });
      i++;
    } else if (c === "/" && regexAllowed()) {
      let inClass = false;
      i++;
      while (i < source.length && (source[i] !== "/" || inClass)) {
        if (source[i] === "\\") i++;
        else if (source[i] === "[") inClass = true;
        else if (source[i] === "]") inClass = false;
        i++;
      }
      i++;
      while (i < source.length && /[a-z]/i.test(source[i]!)) i++;
      tokens.push({ type: "string", text: "<regex>" });
    } else if (/[\w$#@]/.test(c)) {
      let text = "";
      while (i < source.length && /[\w$#@]/.test(source[i]!)) text += source[i++];
      tokens.push({ type: "word", text });
    } else {
      tokens.push({ type: "punct", text: c });
      i++;
    }
  }
  return tokens;
}

/** Every import and re-export in `source`, in order. */
export function parseImports(source: string): ImportRef[] {
  const tokens = tokenize(source);
  const found: ImportRef[] = [];
  const at = (index: number) => tokens[index];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.type !== "word" || !["import", "export", "require"].includes(token.text)) continue;
    if (at(i - 1)?.text === ".") continue; // a property named import or require
    const next = at(i + 1);
    if (token.text === "require") {
      const argument = at(i + 2);
      if (next?.text === "(" && argument?.type === "string" && at(i + 3)?.text === ")") {
        found.push({ specifier: argument.text, kind: "require", typeOnly: false, names: [] });
      }
      continue;
    }
    if (token.text === "import" && next?.text === "(") {
      const argument = at(i + 2);
      // import("x") with a literal; a computed specifier cannot be checked and is reported as such.
      found.push({ specifier: argument?.type === "string" && at(i + 3)?.text === ")" ? argument.text : "<computed>", kind: "dynamic", typeOnly: false, names: [] });
      continue;
    }
    if (token.text === "import" && next?.text === ".") continue; // import.meta
    if (token.text === "import" && next?.type === "string") {
      found.push({ specifier: next.text, kind: "static", typeOnly: false, names: [] });
      continue;
    }
    // `import|export [type] clause from "x"`: the clause runs to the `from` before a string.
    let j = i + 1;
    let typeOnly = false;
    if (at(j)?.text === "type" && at(j + 1)?.text !== "from" && at(j + 1)?.text !== ",") {
      typeOnly = true;
      j++;
    }
    if (token.text === "export" && at(j)?.text !== "{" && at(j)?.text !== "*") continue; // export const …
    const clauseStart = j;
    const endsClause = (t: Token | undefined) => t === undefined || t.text === ";" || (t.type === "word" && (t.text === "import" || t.text === "export"));
    while (j < tokens.length && !(at(j)?.text === "from" && at(j + 1)?.type === "string") && !endsClause(at(j))) j++;
    if (at(j)?.text !== "from") continue;
    const clause = tokens.slice(clauseStart, j);
    const names = boundNames(clause);
    const braced = clause.findIndex((t) => t.text === "{");
    // `import { type A, type B } from`: every name is a type, so nothing is loaded.
    if (!typeOnly && braced === 0 && clause.at(-1)?.text === "}") {
      const entries = splitEntries(clause.slice(1, -1));
      if (entries.length > 0 && entries.every((entry) => entry[0]?.text === "type" && entry.length > 1)) typeOnly = true;
    }
    found.push({ specifier: at(j + 1)!.text, kind: "static", typeOnly, names });
    i = j + 1;
  }
  return found;
}

function splitEntries(tokens: readonly Token[]): Token[][] {
  const entries: Token[][] = [[]];
  for (const token of tokens) {
    if (token.text === ",") entries.push([]);
    else entries.at(-1)!.push(token);
  }
  return entries.filter((entry) => entry.length > 0);
}

/** The imported (not local) names of a clause: `D, { a, type b, c as d }` → D, a, b, c. */
function boundNames(clause: readonly Token[]): string[] {
  const open = clause.findIndex((t) => t.text === "{");
  const names: string[] = [];
  if (open > 0 && clause[0]?.type === "word") names.push(clause[0].text);
  if (open < 0) {
    if (clause[0]?.type === "word" && clause[0].text !== "*") names.push(clause[0].text);
    return names;
  }
  const close = clause.findIndex((t) => t.text === "}");
  for (const entry of splitEntries(clause.slice(open + 1, close))) {
    const words = entry.filter((t) => t.type === "word" || t.type === "string");
    const name = words[0]?.text === "type" && words.length > 1 ? words[1] : words[0];
    if (name) names.push(name.text);
  }
  return names;
}

/** A src/ file with its imports; `target` is the src-relative path of a relative import, else undefined. */
export interface SourceFile {
  /** Path relative to src/, with "/" separators: `agent/run-agent.ts`. */
  readonly path: string;
  readonly source: string;
  readonly imports: readonly (ImportRef & { readonly target: string | undefined })[];
}

/** Every .ts file under `root`, parsed. */
export function readSourceTree(root: string): SourceFile[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? walk(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : [],
    );
  return walk(root)
    .sort()
    .map((file) => {
      const source = readFileSync(file, "utf8");
      const imports = parseImports(source).map((ref) => ({
        ...ref,
        target: ref.specifier.startsWith(".") ? relative(root, resolve(dirname(file), ref.specifier)).split("\\").join("/") : undefined,
      }));
      return { path: relative(root, file).split("\\").join("/"), source, imports };
    });
}
