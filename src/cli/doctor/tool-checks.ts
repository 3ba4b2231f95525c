import { accessSync, constants, statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { type Config, resolveSecretRef } from "../../config/index.ts";
import { SkiffError } from "../../errors.ts";
import { type CheckContext, type CheckResult, type DoctorCheck, result } from "./check.ts";
import { redactUrl } from "../../util/redact-url.ts";
import { probe } from "./probe.ts";

type HttpToolEntry = Config["tools"]["http"][number];
type CommandToolEntry = Config["tools"]["command"][number];

/**
 * Checks that a `[[tools.http]]` endpoint answers, with its headers resolved. It sends HEAD, not the
 * tool's own method, so the check has no side effects; any HTTP answer proves the service is up.
 */
export function httpToolCheck(tool: HttpToolEntry, index: number): DoctorCheck {
  return { name: `tool ${tool.name}`, run: (context) => checkHttpTool(tool, index, context) };
}

async function checkHttpTool(tool: HttpToolEntry, index: number, context: CheckContext): Promise<CheckResult> {
  const headers: Record<string, string> = {};
  try {
    for (const [name, ref] of Object.entries(tool.headers)) {
      headers[name] = resolveSecretRef(ref, ["tools", "http", index, "headers", name], context.secrets);
    }
  } catch (error) {
    const message = error instanceof SkiffError ? error.message : String(error);
    return result.fail(`cannot build its headers: ${message}`, "set the environment variable or file the header refers to");
  }
  const answer = await probe(context, tool.url, { method: "HEAD", headers });
  const shown = redactUrl(tool.url);
  if (!answer.ok) {
    return result.fail(`${shown}: ${answer.reason}`, `start the service, or correct url in [[tools.http]] "${tool.name}"`);
  }
  if (answer.status === 401 || answer.status === 403) {
    return result.warn(`${shown} answered HEAD with ${answer.status}`, `check the headers of [[tools.http]] "${tool.name}"`);
  }
  if (answer.status >= 500) {
    return result.warn(`${shown} answered HEAD with ${answer.status}`, "the service is up but failing; see its logs");
  }
  // 404/405 to HEAD is common for a POST-only route, so it is not counted as a failure.
  return result.ok(`${shown} is up (HEAD → ${answer.status}, ${answer.ms} ms)`);
}

/** Checks that a `[[tools.command]]` program exists and is executable, and that its cwd exists. */
export function commandToolCheck(tool: CommandToolEntry): DoctorCheck {
  return { name: `tool ${tool.name}`, run: async (context) => checkCommandTool(tool, context) };
}

function checkCommandTool(tool: CommandToolEntry, context: CheckContext): CheckResult {
  if (tool.cwd !== undefined && !isDirectory(tool.cwd)) {
    return result.fail(`its cwd "${tool.cwd}" is not a directory`, `create it, or correct cwd in [[tools.command]] "${tool.name}"`);
  }
  const found = findProgram(tool.argv[0]!, tool.cwd, context.path);
  if (!found) {
    return result.fail(
      `the program "${tool.argv[0]}" is not found${tool.argv[0]!.includes("/") ? "" : " on PATH"} or not executable`,
      `install it, or give its absolute path as argv[0] of [[tools.command]] "${tool.name}"`,
    );
  }
  return result.ok(`runs ${found}`);
}

/** Resolves a program the way a spawn would: a path (relative to cwd) as given, a bare name on PATH. */
function findProgram(program: string, cwd: string | undefined, path: string): string | undefined {
  if (program.includes("/")) {
    const full = isAbsolute(program) ? program : resolve(cwd ?? process.cwd(), program);
    return isExecutable(full) ? full : undefined;
  }
  return Bun.which(program, { PATH: path }) ?? undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
