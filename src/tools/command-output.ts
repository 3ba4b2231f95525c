/**
 * Reads a child's stdout and stderr within bounds: the head of stdout and the tail of stderr,
 * dropping the rest as it arrives so the child never blocks on a full pipe, and never waiting
 * past a grace period for the end of a pipe that something else still holds open.
 */

/** What was read of a command's output. */
export interface CollectedOutput {
  /** The first `maxOutput` bytes of stdout. */
  readonly stdout: Uint8Array;
  /** How many bytes stdout had in all. */
  readonly stdoutTotal: number;
  /** The last `maxOutput` bytes of stderr: the end is where errors are. */
  readonly stderr: Uint8Array;
}

/** The output being read; `settle` once the child is gone and its leftovers killed. */
export interface OutputCollector {
  /**
   * Resolves when both pipes reach their end, or after `graceMs` with what arrived by then (a
   * process skiff could not reach may still hold a pipe open; the call must not wait for it).
   */
  settle(graceMs: number): Promise<CollectedOutput>;
}

/** Starts reading both pipes now, keeping at most `maxOutput` bytes of each. */
export function collectOutput(stdout: ReadableStream<Uint8Array>, stderr: ReadableStream<Uint8Array>, maxOutput: number): OutputCollector {
  const head = new HeadBuffer(maxOutput);
  const tail = new TailBuffer(maxOutput);
  const pipes = [drain(stdout, (chunk) => head.push(chunk)), drain(stderr, (chunk) => tail.push(chunk))];
  return {
    async settle(graceMs) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      });
      try {
        await Promise.race([Promise.all(pipes.map((pipe) => pipe.done)), grace]);
      } finally {
        clearTimeout(timer);
      }
      for (const pipe of pipes) pipe.cancel();
      return { stdout: head.bytes(), stdoutTotal: head.total, stderr: tail.bytes() };
    },
  };
}

interface Drain {
  readonly done: Promise<void>;
  cancel(): void;
}

function drain(stream: ReadableStream<Uint8Array>, onChunk: (chunk: Uint8Array) => void): Drain {
  const reader = stream.getReader();
  let finished = false;
  const done = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        onChunk(value);
      }
    } catch {
      // A cancelled or broken pipe ends the output like EOF does.
    } finally {
      finished = true;
    }
  })();
  return {
    done,
    cancel() {
      if (!finished) reader.cancel().catch(() => {});
    },
  };
}

class HeadBuffer {
  private readonly chunks: Uint8Array[] = [];
  private size = 0;
  total = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Uint8Array): void {
    this.total += chunk.byteLength;
    if (this.size >= this.limit) return;
    const take = chunk.subarray(0, this.limit - this.size);
    this.chunks.push(take);
    this.size += take.byteLength;
  }

  bytes(): Uint8Array {
    return Buffer.concat(this.chunks, this.size);
  }
}

class TailBuffer {
  private tail = new Uint8Array(0);

  constructor(private readonly limit: number) {}

  push(chunk: Uint8Array): void {
    const joined = new Uint8Array(this.tail.byteLength + chunk.byteLength);
    joined.set(this.tail);
    joined.set(chunk, this.tail.byteLength);
    this.tail = joined.byteLength > this.limit ? joined.slice(joined.byteLength - this.limit) : joined;
  }

  bytes(): Uint8Array {
    return this.tail;
  }
}
