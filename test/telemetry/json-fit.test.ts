import { describe, expect, it } from "bun:test";
import { fitJson, fitsIn, fitText, TRUNCATION_MARKER } from "../../src/telemetry/json-fit.ts";
import { seeded } from "../helpers/seeded-random.ts";

const bytes = (text: string) => Buffer.byteLength(text, "utf8");

/** Random JSON of messages-like shapes, with ASCII, 2-byte, 3-byte and 4-byte (surrogate pair) characters. */
function randomValue(random: () => number, depth = 0): unknown {
  const pick = Math.floor(random() * (depth > 2 ? 3 : 6));
  const alphabet = ["a", "é", "€", "😀", " ", '"', "\\", "\n"];
  const text = () => Array.from({ length: Math.floor(random() * 120) }, () => alphabet[Math.floor(random() * alphabet.length)]).join("");
  switch (pick) {
    case 0:
      return text();
    case 1:
      return Math.floor(random() * 1000);
    case 2:
      return random() < 0.5;
    case 3:
      return Array.from({ length: Math.floor(random() * 6) }, () => randomValue(random, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: Math.floor(random() * 5) }, (_, index) => [`k${index}`, randomValue(random, depth + 1)]));
  }
}

describe("fitJson", () => {
  it("returns the JSON unchanged when it fits, or when there is no limit", () => {
    const value = [{ role: "user", parts: [{ type: "text", content: "hello" }] }];
    expect(fitJson(value, 0)).toEqual({ text: JSON.stringify(value), cut: false });
    expect(fitJson(value, 1_000)).toEqual({ text: JSON.stringify(value), cut: false });
  });

  it("cuts long strings, keeping the structure, and ends each cut string with the marker", () => {
    const value = [{ role: "user", parts: [{ type: "text", content: "x".repeat(5_000) }] }, { role: "assistant", parts: [{ type: "text", content: "short" }] }];
    const fitted = fitJson(value, 300);
    expect(fitted.cut).toBe(true);
    expect(bytes(fitted.text)).toBeLessThanOrEqual(300);
    const parsed = JSON.parse(fitted.text) as { role: string; parts: { content: string }[] }[];
    expect(parsed.map((message) => message.role)).toEqual(["user", "assistant"]);
    expect(parsed[0]!.parts[0]!.content.endsWith(TRUNCATION_MARKER)).toBe(true);
    expect(parsed[1]!.parts[0]!.content).toBe("short");
    // As much text as fits: the next longer cap would not.
    expect(bytes(fitted.text)).toBeGreaterThan(300 - 10);
  });

  it("never splits a character: multi-byte and surrogate pairs survive whole", () => {
    for (const char of ["é", "€", "😀"]) {
      const fitted = fitJson({ text: char.repeat(400) }, 257);
      expect(bytes(fitted.text)).toBeLessThanOrEqual(257);
      const text = (JSON.parse(fitted.text) as { text: string }).text;
      expect(text.endsWith(TRUNCATION_MARKER)).toBe(true);
      const kept = text.slice(0, -TRUNCATION_MARKER.length);
      expect(kept).toBe(char.repeat(kept.length / char.length));
      expect(kept.length).toBeGreaterThan(0);
    }
  });

  it("drops the oldest messages when even the shortest strings leave the list too long", () => {
    const messages = Array.from({ length: 60 }, (_, index) => ({ role: index % 2 ? "assistant" : "user", parts: [{ type: "text", content: `message ${index}` }] }));
    const fitted = fitJson(messages, 600);
    expect(fitted.cut).toBe(true);
    expect(bytes(fitted.text)).toBeLessThanOrEqual(600);
    const kept = JSON.parse(fitted.text) as { parts: { content: string }[] }[];
    expect(kept.length).toBeGreaterThan(1);
    expect(kept.length).toBeLessThan(60);
    expect(kept.at(-1)!.parts[0]!.content).toBe("message 59");
  });

  it("drops the last keys of an object that cannot fit otherwise", () => {
    const value = Object.fromEntries(Array.from({ length: 50 }, (_, index) => [`key${index}`, index]));
    const fitted = fitJson(value, 120);
    const parsed = JSON.parse(fitted.text) as Record<string, number>;
    expect(bytes(fitted.text)).toBeLessThanOrEqual(120);
    expect(Object.keys(parsed)[0]).toBe("key0");
    expect(Object.keys(parsed).length).toBeLessThan(50);
  });

  it("falls back to the marker alone, as a JSON string, when nothing else fits", () => {
    expect(fitJson([{ a: 1, b: [1, 2, 3] }], 20)).toEqual({ text: JSON.stringify(TRUNCATION_MARKER), cut: true });
    expect(fitJson({ a: [1, 2, 3] }, 5)).toEqual({ text: '""', cut: true });
  });

  it("always gives parseable JSON within the limit, for 500 generated values and limits", () => {
    const random = seeded(0x5eed);
    for (let round = 0; round < 500; round++) {
      const value = randomValue(random);
      const limit = 2 + Math.floor(random() * 600);
      const fitted = fitJson(value, limit);
      expect(bytes(fitted.text)).toBeLessThanOrEqual(limit);
      expect(() => JSON.parse(fitted.text)).not.toThrow();
      expect(fitted.cut).toBe(fitted.text !== JSON.stringify(value));
    }
  });
});

describe("fitText", () => {
  it("keeps text that fits and cuts the rest between characters, with the marker", () => {
    expect(fitText("hello", 5)).toEqual({ text: "hello", cut: false });
    const fitted = fitText("😀".repeat(100), 64);
    expect(fitted.cut).toBe(true);
    expect(bytes(fitted.text)).toBeLessThanOrEqual(64);
    expect(fitted.text).toBe("😀".repeat(12) + TRUNCATION_MARKER);
  });

  it("cuts without the marker when the limit is smaller than the marker itself", () => {
    expect(fitText("abcdefghijklmnop", 6)).toEqual({ text: "abcdef", cut: true });
  });
});

describe("fitsIn", () => {
  it("counts UTF-8 bytes, not characters", () => {
    expect(fitsIn("ééé", 6)).toBe(true);
    expect(fitsIn("ééé", 5)).toBe(false);
    expect(fitsIn("anything at all", 0)).toBe(true);
  });
});
