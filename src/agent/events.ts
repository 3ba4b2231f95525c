import type { SkiffError } from "../errors.ts";
import type { RunResult } from "./result.ts";

/** What the loop reports while it runs; the CLI prints these and the server streams them. */
export type AgentEvent =
  /** The run's span started: its trace id (undefined when not traced), for journals and logs. */
  | { readonly type: "run.started"; readonly traceId: string | undefined }
  | { readonly type: "step.started"; readonly step: number }
  | { readonly type: "model.delta"; readonly step: number; readonly text: string }
  | {
      readonly type: "tool.started";
      readonly step: number;
      readonly callId: string;
      readonly name: string;
      readonly arguments: string;
    }
  | {
      readonly type: "tool.finished";
      readonly step: number;
      readonly callId: string;
      readonly name: string;
      readonly ok: boolean;
      readonly output: string;
      readonly durationMs: number;
    }
  | { readonly type: "run.completed"; readonly result: RunResult }
  | { readonly type: "run.failed"; readonly error: SkiffError };

export type AgentEventListener = (event: AgentEvent) => void;
