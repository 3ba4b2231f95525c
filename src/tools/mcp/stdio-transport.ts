import { ReadBuffer, serializeMessage } from "@modelcontextprotocol/sdk/shared/stdio.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { type GroupSpawnOptions, killTree, spawnGroup } from "../process-group.ts";

const stderrTailBytes = 2048;
const closeGraceMs = 500;

/**
 * The MCP stdio transport, on a child in a process group of its own. The SDK's transport kills
 * only the process it started (npx, not the server npx runs) and waits up to 4 s doing so; this
 * one kills the whole group and whatever the server left elsewhere (`killTree`), keeps the end
 * of stderr for error messages, and treats a stdout line that is not JSON-RPC as a broken server
 * (the spec forbids anything else on stdout).
 */
export class GroupStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  /** Why the connection ended, in words for the model, once it has ended on its own. */
  failure: string | undefined;

  private child: ReturnType<typeof spawnGroup<"pipe">> | undefined;
  private readonly buffer = new ReadBuffer();
  private stderrTail = new Uint8Array(0);
  private closed = false;

  constructor(private readonly options: GroupSpawnOptions) {}

  async start(): Promise<void> {
    if (this.child) throw new Error("GroupStdioTransport already started");
    const child = spawnGroup(this.options, "pipe");
    this.child = child;
    void this.readStdout(child.stdout);
    const stderrDone = this.readStderr(child.stderr);
    void child.exited.then(async () => {
      // Let the last words on stderr arrive (a grandchild holding the pipe must not stall us).
      await Promise.race([stderrDone, Bun.sleep(100)]);
      const how = child.exitCode === null ? `was killed by ${String(child.signalCode)}` : `exited with code ${child.exitCode}`;
      this.end(`the server process ${how}${this.describeStderr()}`);
    });
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (!this.child || this.closed) throw new Error(this.failure ?? "the MCP server is not running");
    this.child.stdin.write(serializeMessage(message));
    await this.child.stdin.flush();
  }

  /** Closes stdin, lets the server exit on its own briefly, then kills its group. */
  async close(): Promise<void> {
    const child = this.child;
    if (!child || this.closed) return;
    this.closed = true;
    try {
      await child.stdin.end();
    } catch {
      // The pipe may already be gone with the process.
    }
    await Promise.race([child.exited, Bun.sleep(closeGraceMs)]);
    await killTree(child);
    this.onclose?.();
  }

  /** Kills the server at once; pending requests fail with `reason`. */
  destroy(reason: string): void {
    if (this.child) void killTree(this.child);
    this.end(reason);
  }

  /** The child's pid, for tests and logs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  private end(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.failure = reason;
    if (this.child) void killTree(this.child);
    this.onclose?.();
  }

  private async readStdout(stdout: ReadableStream<Uint8Array>): Promise<void> {
    try {
      for await (const chunk of stdout) {
        this.buffer.append(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        for (;;) {
          let message: JSONRPCMessage | null;
          try {
            message = this.buffer.readMessage();
          } catch {
            this.destroy("the server wrote something that is not JSON-RPC on stdout");
            return;
          }
          if (message === null) break;
          this.onmessage?.(message);
        }
      }
    } catch (error) {
      // An oversized line (ReadBuffer's 10 MiB cap) or a broken pipe.
      this.destroy(`reading the server's stdout failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private async readStderr(stderr: ReadableStream<Uint8Array>): Promise<void> {
    for await (const chunk of stderr) {
      const joined = new Uint8Array(this.stderrTail.byteLength + chunk.byteLength);
      joined.set(this.stderrTail);
      joined.set(chunk, this.stderrTail.byteLength);
      this.stderrTail = joined.byteLength > stderrTailBytes ? joined.slice(-stderrTailBytes) : joined;
    }
  }

  private describeStderr(): string {
    const text = new TextDecoder().decode(this.stderrTail).trim();
    if (text === "") return "";
    const lastLines = text.split("\n").slice(-5).join(" | ");
    return ` (stderr: ${lastLines.length > 500 ? `…${lastLines.slice(-500)}` : lastLines})`;
  }
}
