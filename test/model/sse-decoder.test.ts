import { describe, expect, it } from "bun:test";
import { SseDecoder } from "../../src/model/sse-decoder.ts";

type Seen = [event: string, data: string][];

function decode(pieces: readonly string[]): Seen {
  const seen: Seen = [];
  const decoder = new SseDecoder((event, data) => seen.push([event, data]));
  for (const piece of pieces) decoder.push(piece);
  decoder.end();
  return seen;
}

describe("SseDecoder", () => {
  it("reads events ended by LF, CRLF and a lone CR alike", () => {
    const expected: Seen = [
      ["", "one"],
      ["", "two"],
    ];
    expect(decode(["data: one\n\ndata: two\n\n"])).toEqual(expected);
    expect(decode(["data: one\r\n\r\ndata: two\r\n\r\n"])).toEqual(expected);
    expect(decode(["data: one\r\rdata: two\r\r"])).toEqual(expected);
  });

  it("gives the same events however the text is split into pieces", () => {
    const text = ': keep-alive\r\nevent: error\r\ndata: {"a":\r\ndata: 1}\r\n\r\ndata:x\n\ndata: [DONE] \r\n\r\n';
    const whole = decode([text]);
    expect(whole).toEqual([
      ["error", '{"a":\n1}'],
      ["", "x"],
      ["", "[DONE] "],
    ]);
    for (let at = 0; at <= text.length; at++) expect(decode([text.slice(0, at), text.slice(at)])).toEqual(whole);
    expect(decode([...text])).toEqual(whole);
  });

  it("drops one space after the colon, ignores comments and unknown fields, and reads a field without a colon", () => {
    expect(decode(["data:  two spaces\nid: 7\nretry: 10\n: comment\n\n"])).toEqual([["", " two spaces"]]);
    expect(decode(["data\n\n"])).toEqual([["", ""]]);
  });

  it("delivers nothing for a block without data, and resets the event name after each event", () => {
    expect(decode(["event: ping\n\ndata: a\n\n"])).toEqual([["", "a"]]);
  });

  it("delivers an event the stream ended without a blank line after", () => {
    expect(decode(["data: [DONE]"])).toEqual([["", "[DONE]"]]);
    expect(decode(["data: last\r"])).toEqual([["", "last"]]);
  });
});
