import type { Message } from "../model/messages.ts";

/**
 * How many of the oldest messages to drop so that at most `max` remain. Whole turns go first (a
 * turn starts at a user message); when the newest turn alone is too long, it is cut before an
 * assistant or user message, never between a tool call and its result. Returns 0 when it fits.
 *
 * Works on roles only, so a store can decide what to delete without reading message bodies.
 */
export function historyDropCount(roles: readonly Message["role"][], max: number): number {
  const excess = roles.length - max;
  if (excess <= 0) return 0;
  // Prefer the first turn boundary (a user message) at or after `excess`.
  for (let i = excess; i < roles.length; i++) {
    if (roles[i] === "user") return i;
  }
  // No turn boundary left: cut inside the newest turn where no tool result loses its call.
  for (let i = excess; i < roles.length; i++) {
    if (roles[i] !== "tool") return i;
  }
  return roles.length;
}

/** The history with its oldest turns dropped to fit `max` messages (see `historyDropCount`). */
export function trimHistory(messages: readonly Message[], max: number): readonly Message[] {
  const drop = historyDropCount(
    messages.map((message) => message.role),
    max,
  );
  return drop === 0 ? messages : messages.slice(drop);
}
