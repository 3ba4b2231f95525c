/**
 * The OTLP export, pinned: each scenario of export-scenarios.ts (seeded ids, a scripted clock, a
 * real OTLP/HTTP protobuf export to 127.0.0.1) must decode to exactly the spans, `--trace` tree and
 * tool traceparents in fixtures/otlp-export.json. The first ten scenarios were recorded with the
 * SDK-Tracer implementation the records replaced (byte for byte); after an intended change the
 * fixture is rewritten (`bun test/telemetry/export-scenarios.ts --write`) and its diff reviewed.
 */
import { describe, expect, it } from "bun:test";
import { fixturePath, pinned, type PinnedScenario, runScenario, scenarioNames } from "./export-scenarios.ts";

const fixture = (await Bun.file(fixturePath).json()) as Record<string, PinnedScenario>;

describe("OTLP export (pinned)", () => {
  it("has a pinned output for every scenario and no other", () => {
    expect(Object.keys(fixture)).toEqual([...scenarioNames]);
  });

  for (const name of scenarioNames) {
    it(`exports "${name}" exactly as pinned`, async () => {
      expect(pinned(await runScenario(name))).toEqual(fixture[name]!);
    });
  }
});
