/**
 * Provider reply shapes pinned in test/fixtures/providers/*.json (written from each provider's
 * documented format; see the README there), turned into scripted replies of the fake server.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type FakeReply, reply } from "./fake-openai-server.ts";

/** One fixture: which provider, what it does differently, and its replies in conversation order. */
export interface ProviderFixture {
  readonly provider: string;
  readonly quirk: string;
  readonly documented_at: string;
  readonly turns: readonly { readonly name?: string; readonly json: unknown; readonly sse: readonly string[] }[];
}

const dir = join(import.meta.dir, "..", "fixtures", "providers");

/** Reads `test/fixtures/providers/<name>.json`. */
export function providerFixture(name: string): ProviderFixture {
  return JSON.parse(readFileSync(join(dir, `${name}.json`), "utf8")) as ProviderFixture;
}

/** The fixture's turns as replies: the JSON body for a plain request, the SSE writes for a streaming one. */
export function fixtureReplies(name: string): FakeReply[] {
  return providerFixture(name).turns.map((turn) => reply.raw({ json: turn.json, sse: turn.sse }));
}
