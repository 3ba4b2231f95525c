import { ConfigError, configIssue } from "../errors.ts";
import type { JsonSchema } from "../model/model.ts";
import { ToolInputError } from "./tool.ts";

type Part = string | { readonly name: string };

/** One argv element of a command tool: literal text, a whole `{name}`, or text with placeholders. */
type TemplateElement =
  | { readonly kind: "literal"; readonly text: string }
  | { readonly kind: "whole"; readonly name: string; readonly afterDoubleDash: boolean }
  | { readonly kind: "partial"; readonly parts: readonly Part[]; readonly template: string; readonly afterDoubleDash: boolean };

/** A command tool's argv, parsed once at start-up. */
export interface ArgvTemplate {
  readonly program: string;
  readonly elements: readonly TemplateElement[];
}

const placeholder = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Parses argv with `{name}` placeholders. The program (argv[0]) must be literal, and every
 * placeholder must name a property of the tool's parameters: a typo is a ConfigError at `path`.
 */
export function parseArgvTemplate(argv: readonly string[], properties: ReadonlySet<string>, path: string): ArgvTemplate {
  const [program, ...rest] = argv;
  if (program === undefined || program === "") throw new ConfigError([configIssue(path, "needs at least the program to run", { code: "missing" })]);
  if (splitParts(program).some((part) => typeof part !== "string")) {
    throw new ConfigError([configIssue(`${path}[0]`, "the program must be written out, not a {placeholder}", { code: "invalid_value" })]);
  }
  let afterDoubleDash = false;
  const elements = rest.map((text, index): TemplateElement => {
    const parts = splitParts(text);
    for (const part of parts) {
      if (typeof part !== "string" && !properties.has(part.name)) {
        const known = [...properties].map((name) => `{${name}}`).join(", ") || "none";
        throw new ConfigError([
          configIssue(`${path}[${index + 1}]`, `{${part.name}} is not a property of parameters (placeholders: ${known})`, { code: "not_found" }),
        ]);
      }
    }
    const element: TemplateElement =
      parts.length === 1 && typeof parts[0] === "string"
        ? { kind: "literal", text }
        : parts.length === 1 && typeof parts[0] !== "string"
          ? { kind: "whole", name: parts[0]!.name, afterDoubleDash }
          : { kind: "partial", parts, template: text, afterDoubleDash };
    if (text === "--") afterDoubleDash = true;
    return element;
  });
  return { program, elements };
}

/**
 * Builds the real argv from validated arguments. Each placeholder becomes text inside its own
 * element and never more (no shell, no splitting on spaces), except that a whole-element
 * placeholder holding an array becomes one element per item. A missing optional argument drops
 * its element. A string that would start an element with "-" is refused unless the template has
 * a literal "--" before it, so a model cannot slip an option (`--pre=sh`) into a program.
 */
export function expandArgv(template: ArgvTemplate, args: Readonly<Record<string, unknown>>, schema: JsonSchema): string[] {
  const argv = [template.program];
  const valueOf = (name: string): unknown => args[name] ?? defaultOf(schema, name);
  for (const element of template.elements) {
    switch (element.kind) {
      case "literal":
        argv.push(element.text);
        break;
      case "whole": {
        const value = valueOf(element.name);
        if (value === undefined) break;
        for (const item of Array.isArray(value) ? value : [value]) {
          const text = argText(element.name, item);
          guardOption(element.name, item, text, element.afterDoubleDash, template.program);
          argv.push(text);
        }
        break;
      }
      case "partial": {
        const names = element.parts.filter((part) => typeof part !== "string").map((part) => part.name);
        if (names.some((name) => valueOf(name) === undefined)) break;
        const text = element.parts.map((part) => (typeof part === "string" ? part : argText(part.name, valueOf(part.name)))).join("");
        if (!element.template.startsWith("-")) guardOption(names[0]!, undefined, text, element.afterDoubleDash, template.program);
        argv.push(text);
        break;
      }
      default: {
        const unreachable: never = element;
        throw new Error(`unhandled argv element ${JSON.stringify(unreachable)}`);
      }
    }
  }
  return argv;
}

function splitParts(text: string): Part[] {
  const parts: Part[] = [];
  let last = 0;
  for (const match of text.matchAll(placeholder)) {
    if (match.index > last) parts.push(text.slice(last, match.index));
    parts.push({ name: match[1]! });
    last = match.index + match[0].length;
  }
  if (last < text.length || parts.length === 0) parts.push(text.slice(last));
  return parts;
}

function argText(name: string, value: unknown): string {
  const text = typeof value === "string" ? value : typeof value === "object" || value === undefined ? JSON.stringify(value ?? null) : String(value);
  // A C string ends at NUL: the program would see a different argument than the one checked.
  if (text.includes("\0")) throw new ToolInputError(`${name}: must not contain a NUL character`);
  return text;
}

function guardOption(name: string, value: unknown, text: string, afterDoubleDash: boolean, program: string): void {
  if (afterDoubleDash || typeof value === "number" || !text.startsWith("-")) return;
  throw new ToolInputError(
    `${name}: "${text.slice(0, 40)}" starts with "-", which ${program} would read as an option; pass a value that does not start with "-"`,
  );
}

function defaultOf(schema: JsonSchema, name: string): unknown {
  const properties = schema["properties"];
  if (typeof properties !== "object" || properties === null) return undefined;
  const property = (properties as Record<string, unknown>)[name];
  return typeof property === "object" && property !== null ? (property as { default?: unknown }).default : undefined;
}
