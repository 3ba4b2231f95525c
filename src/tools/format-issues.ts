import type { z } from "zod";

/** Renders zod issues as `path: message` lines the model (or a person) can act on. */
export function formatZodIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const path = issue.path.length > 0 ? issue.path.map(String).join(".") : "(arguments)";
      return `${path}: ${issue.message}`;
    })
    .join("; ");
}
