import { UsageError } from "../errors.ts";
import { closest } from "../config/suggest.ts";

/** A flag a command accepts. */
export interface FlagSpec {
  readonly name: string;
  /** Switches (`--json`) take no value; `--no-x` / `--x=false` turn a boolean config key off. */
  readonly takesValue: boolean;
  readonly placeholder?: string;
  readonly help: string;
}

export interface ParsedArgs {
  readonly positionals: readonly string[];
  /** Flag name → value text ("true"/"false" for switches). */
  readonly flags: ReadonlyMap<string, string>;
}

/**
 * Splits argv into positionals and flags. Accepts `--name value`, `--name=value`, `--switch`,
 * `--no-switch`, `--` (end of flags) and `-` (a positional: read stdin). Unknown flags are usage
 * errors that suggest the nearest known one.
 */
export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[], commandName: string): ParsedArgs {
  const byName = new Map(specs.map((spec) => [spec.name, spec] as const));
  const positionals: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === "-h") {
      flags.set("help", "true");
      continue;
    }
    if (!arg.startsWith("--") || arg === "-") {
      if (arg.startsWith("-") && arg !== "-" && !/^-\d/.test(arg)) {
        throw new UsageError(`unknown option ${arg} for "skiff ${commandName}": options are spelled --name; see skiff ${commandName} --help`);
      }
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    let name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    let value: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    let spec = byName.get(name);
    if (!spec && name.startsWith("no-") && value === undefined) {
      const positive = byName.get(name.slice(3));
      if (positive && !positive.takesValue) {
        spec = positive;
        name = positive.name;
        value = "false";
      }
    }
    if (!spec) {
      const guess = closest(name, [...byName.keys()]);
      throw new UsageError(
        `unknown flag --${name} for "skiff ${commandName}"${guess ? `; did you mean --${guess}?` : ""} (see skiff ${commandName} --help)`,
      );
    }
    if (spec.takesValue && value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith("--") && next.length > 2)) {
        throw new UsageError(`flag --${name} needs a value: --${name} ${spec.placeholder ?? "VALUE"}`);
      }
      value = next;
      i++;
    }
    flags.set(name, value ?? "true");
  }
  return { positionals, flags };
}
