/**
 * skiff's entry point. `skiff version` answers from here, before anything else is loaded, so it
 * starts as fast as the runtime does; every other command goes to dispatch.ts and its command table.
 */
import { printVersion } from "./cli/version.ts";

const argv = process.argv.slice(2);
const [name, ...rest] = argv;
const versionOnly = name === "--version" || (name === "version" && rest.every((arg) => arg === "--json"));

let code: number;
if (versionOnly) {
  printVersion(rest.includes("--json"), { out: (text) => void process.stdout.write(text) });
  code = 0;
} else {
  const { run } = await import("./dispatch.ts");
  code = await run(argv);
}
process.exit(code);
