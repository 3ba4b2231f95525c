import type { Message } from "../model/messages.ts";
import type { SessionStore } from "../sessions/index.ts";
import type { Terminal } from "./io.ts";

/** `skiff chat --session ID`: the conversation is loaded from and saved to a session store. */
export interface ChatSessionOptions {
  readonly store: SessionStore;
  readonly id: string;
  readonly maxMessages: number;
}

/** Keeps a chat's history in a session store, one atomic commit per answered turn. */
export class ChatSession {
  readonly #options: ChatSessionOptions;
  #version = 0;

  constructor(options: ChatSessionOptions) {
    this.#options = options;
  }

  /** The stored conversation (without system messages); empty for a new session. */
  async load(): Promise<Message[]> {
    const stored = await this.#options.store.get(this.#options.id);
    this.#version = stored?.version ?? 0;
    return stored ? [...stored.messages] : [];
  }

  /**
   * Saves one answered turn. When another process changed the session meanwhile, the turn is not
   * saved and the stored conversation is returned, so the chat goes on from what is stored.
   */
  async save(turn: readonly Message[], terminal: Terminal): Promise<Message[] | undefined> {
    const { store, id, maxMessages } = this.#options;
    const saved = await store.commitTurn(id, { expectedVersion: this.#version, messages: turn, maxMessages });
    if (saved.ok) {
      this.#version = saved.version;
      return undefined;
    }
    terminal.err(`(session "${id}" was changed elsewhere; this answer was not saved, continuing from the stored conversation)\n`);
    return this.load();
  }

  /** Forgets the stored conversation (`/reset`). */
  async reset(): Promise<void> {
    await this.#options.store.delete(this.#options.id);
    this.#version = 0;
  }
}
