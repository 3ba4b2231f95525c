/**
 * The structured-output port: the final answer must be JSON valid against a schema. The loop gets
 * a validator from the edge (agent/ imports no JSON Schema library), asks the model for JSON
 * through `responseFormat`, and answers an invalid final answer with a corrective turn that names
 * the errors, `retries` times, before the run ends with finish reason `output_schema`.
 */
import type { UserMessage } from "../model/messages.ts";
import type { JsonSchema } from "../model/model.ts";

/** What a validator says about one answer: its parsed value, or the errors to show the model. */
export type OutputVerdict = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly errors: string };

/** A schema the final answer must match. */
export interface OutputSchema {
  /** A name for the schema (`response_format.json_schema.name`: letters, digits, `_`, `-`). */
  readonly name: string;
  /** The JSON Schema, sent to the model as `response_format`. */
  readonly schema: JsonSchema;
  /** Parses and checks the final answer's text. */
  readonly validate: (text: string) => OutputVerdict;
  /** Corrective turns before the run fails with `output_schema` (`output_schema_retries`). */
  readonly retries: number;
}

/** What to do with a final answer under an output schema. */
export type AnswerCheck =
  | { readonly type: "valid"; readonly value: unknown }
  | { readonly type: "correct"; readonly message: UserMessage }
  | { readonly type: "invalid"; readonly errors: string };

/** Checks a final answer; an invalid one gets a corrective message when `mayCorrect`, else it fails. */
export function checkAnswer(schema: OutputSchema, text: string, mayCorrect: boolean): AnswerCheck {
  const verdict = schema.validate(text);
  if (verdict.ok) return { type: "valid", value: verdict.value };
  if (!mayCorrect) return { type: "invalid", errors: verdict.errors };
  return {
    type: "correct",
    message: {
      role: "user",
      content: `Your answer is not valid against the required output schema:\n${verdict.errors}\nAnswer again with only the corrected JSON value, nothing before or after it.`,
    },
  };
}
