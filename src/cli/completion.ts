import { UsageError } from "../errors.ts";
import type { FlagSpec } from "./argv.ts";
import { type CommandSpec, commands, flagsOf } from "./commands.ts";

/**
 * `skiff completion bash|zsh|fish`: a completion script generated from the same command and flag
 * tables as `--help` (`commands`, `flagsOf`), so a new command or config key completes without
 * anyone editing a list.
 */
export function completionScript(shell: string | undefined, table: readonly CommandSpec[] = commands): string {
  switch (shell) {
    case "bash":
      return bashScript(table);
    case "zsh":
      return zshScript(table);
    case "fish":
      return fishScript(table);
    default:
      throw new UsageError(
        `completion needs a shell: bash, zsh or fish${shell === undefined ? "" : ` (got "${shell}")`}, e.g. source <(skiff completion bash)`,
      );
  }
}

/** Placeholders whose values are file names, so the shell offers files for them. */
const pathPlaceholders = new Set(["PATH", "DIR", "FILE"]);
const takesPath = (flag: FlagSpec) => flag.takesValue && pathPlaceholders.has(flag.placeholder ?? "");
/** The first sentence of a summary, as `skiff --help` shows it. */
const firstSentence = (text: string) => text.split(". ")[0]!.replace(/\.$/, "");
const names = (flags: readonly FlagSpec[]) => flags.map((flag) => `--${flag.name}`).join(" ");

function bashScript(table: readonly CommandSpec[]): string {
  const cases = table.map((command) => {
    const flags = flagsOf(command);
    return [
      `    ${command.name})`,
      `      flags="${names(flags)}"`,
      `      valued="${names(flags.filter((flag) => flag.takesValue))}"`,
      `      paths="${names(flags.filter(takesPath))}"`,
      `      subs="${(command.subcommands ?? []).map((sub) => sub.name).join(" ")}" ;;`,
    ].join("\n");
  });
  return `# bash completion for skiff, generated from its command table by \`skiff completion bash\`.
# Now: source <(skiff completion bash)   For good: skiff completion bash > /etc/bash_completion.d/skiff
_skiff() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local flags valued paths subs i word positional=0
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${table.map((command) => command.name).join(" ")} --help --version" -- "$cur"))
    return 0
  fi
  case "\${COMP_WORDS[1]}" in
${cases.join("\n")}
    *) return 0 ;;
  esac
  case " $paths " in *" $prev "*) COMPREPLY=($(compgen -f -- "$cur")); return 0 ;; esac
  case " $valued " in *" $prev "*) COMPREPLY=(); return 0 ;; esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
    return 0
  fi
  if [ -z "$subs" ]; then
    COMPREPLY=($(compgen -f -- "$cur"))
    return 0
  fi
  for ((i = 2; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    case " $valued " in *" $word "*) i=$((i + 1)); continue ;; esac
    [[ "$word" == -* ]] || positional=$((positional + 1))
  done
  if [ "$positional" -eq 0 ]; then COMPREPLY=($(compgen -W "$subs" -- "$cur")); else COMPREPLY=(); fi
}
complete -F _skiff skiff
`;
}

/** Quotes text for a single-quoted zsh word. */
const zshQuote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;
/** Escapes what _arguments and _describe treat as syntax in a description. */
const zshDescription = (text: string) => text.replace(/([[\]:\\])/g, "\\$1");

function zshScript(table: readonly CommandSpec[]): string {
  const described = table.map((command) => `    ${zshQuote(`${command.name}:${firstSentence(command.summary)}`)}`);
  const cases = table.map((command) => {
    const specs = flagsOf(command).map((flag) => {
      const head = `--${flag.name}[${zshDescription(flag.help)}]`;
      if (!flag.takesValue) return zshQuote(head);
      return zshQuote(`${head}:${flag.placeholder ?? "VALUE"}:${takesPath(flag) ? "_files" : " "}`);
    });
    const subs = command.subcommands ?? [];
    specs.push(subs.length > 0 ? zshQuote(`1:subcommand:(${subs.map((sub) => sub.name).join(" ")})`) : zshQuote("*:argument:_files"));
    return [`    ${command.name})`, `      _arguments \\`, ...specs.map((spec, i) => `        ${spec}${i < specs.length - 1 ? " \\" : ""}`), "      ;;"].join("\n");
  });
  return `#compdef skiff
# zsh completion for skiff, generated from its command table by \`skiff completion zsh\`.
# Now: source <(skiff completion zsh)   For good: skiff completion zsh > "\${fpath[1]}/_skiff"
_skiff() {
  local -a commands
  commands=(
${described.join("\n")}
  )
  if (( CURRENT == 2 )); then
    _describe -t commands 'skiff command' commands
    return
  fi
  local command=\${words[2]}
  shift words
  (( CURRENT-- ))
  case $command in
${cases.join("\n")}
  esac
}
if [ "$funcstack[1]" = "_skiff" ]; then _skiff "$@"; else compdef _skiff skiff; fi
`;
}

/** Quotes text for a single-quoted fish word. */
const fishQuote = (text: string) => `'${text.replace(/(['\\])/g, "\\$1")}'`;

function fishScript(table: readonly CommandSpec[]): string {
  const lines = [
    "# fish completion for skiff, generated from its command table by `skiff completion fish`.",
    "# For good: skiff completion fish > ~/.config/fish/completions/skiff.fish",
    "complete -c skiff -f",
    "complete -c skiff -n __fish_use_subcommand -l help -d 'Show help'",
    "complete -c skiff -n __fish_use_subcommand -l version -d 'Show the version'",
  ];
  for (const command of table) {
    lines.push(`complete -c skiff -n __fish_use_subcommand -a ${command.name} -d ${fishQuote(firstSentence(command.summary))}`);
    const inCommand = fishQuote(`__fish_seen_subcommand_from ${command.name}`);
    for (const flag of flagsOf(command)) {
      const value = flag.takesValue ? (takesPath(flag) ? " -r -F" : " -x") : "";
      lines.push(`complete -c skiff -n ${inCommand} -l ${flag.name}${value} -d ${fishQuote(flag.help)}`);
    }
    const subs = command.subcommands ?? [];
    if (subs.length === 0) {
      lines.push(`complete -c skiff -n ${inCommand} -F`);
      continue;
    }
    const noSubYet = fishQuote(`__fish_seen_subcommand_from ${command.name}; and not __fish_seen_subcommand_from ${subs.map((sub) => sub.name).join(" ")}`);
    for (const sub of subs) lines.push(`complete -c skiff -n ${noSubYet} -a ${sub.name} -d ${fishQuote(sub.summary)}`);
  }
  return `${lines.join("\n")}\n`;
}
