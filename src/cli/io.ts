/** The terminal a command talks to; main.ts wires the real one, tests can pass their own. */
export interface Terminal {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly stdinIsTTY: boolean;
  readonly readStdin: () => Promise<string>;
}
