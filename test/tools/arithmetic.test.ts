import { describe, expect, it } from "bun:test";
import { calcTool } from "../../src/tools/builtin/calc.ts";
import { evaluateArithmetic } from "../../src/tools/builtin/arithmetic.ts";
import { ToolFailure, ToolInputError } from "../../src/tools/tool.ts";

const context = { signal: new AbortController().signal, callId: "call_1" };

function failureOf(expression: string): ToolFailure {
  try {
    evaluateArithmetic(expression);
  } catch (error) {
    if (error instanceof ToolFailure) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(expression)} to fail`);
}

describe("evaluateArithmetic", () => {
  it.each([
    ["2+3*4", 14],
    ["2^3^2", 512],
    ["-2^2", -4],
    ["(2+3)*4", 20],
    ["10%4", 2],
    ["7/2", 3.5],
    ["17*23", 391],
    ["1.5e2", 150],
    ["10-4-3", 3],
    ["48/4/2", 6],
    ["2*3^2", 18],
  ])("evaluates %s to %d with the usual precedence and associativity", (expression, expected) => {
    expect(evaluateArithmetic(expression)).toBe(expected);
  });

  it("reads decimals, leading-dot numbers and exponents", () => {
    expect(evaluateArithmetic(".5 + 0.25")).toBe(0.75);
    expect(evaluateArithmetic("1e3")).toBe(1000);
    expect(evaluateArithmetic("2.5E-1")).toBe(0.25);
    expect(evaluateArithmetic("1e+2")).toBe(100);
  });

  it("applies unary minus and plus, also in exponents", () => {
    expect(evaluateArithmetic("-3")).toBe(-3);
    expect(evaluateArithmetic("--3")).toBe(3);
    expect(evaluateArithmetic("+-+3")).toBe(-3);
    expect(evaluateArithmetic("4*-2")).toBe(-8);
    expect(evaluateArithmetic("(-2)^2")).toBe(4);
    expect(evaluateArithmetic("2^-1")).toBe(0.5);
  });

  it("evaluates nested parentheses and ignores whitespace", () => {
    expect(evaluateArithmetic(" ( (1 + 2) * (3 - (4 / 2)) ) ^ 2 ")).toBe(9);
    expect(evaluateArithmetic("\t2 *\n3")).toBe(6);
    expect(evaluateArithmetic(`${"(".repeat(400)}1${")".repeat(400)}`)).toBe(1);
  });

  it("accepts × and ÷ as * and /", () => {
    expect(evaluateArithmetic("6 × 7 ÷ 2")).toBe(21);
  });

  it.each([
    ["1/0", "Division by zero at position 2."],
    ["5 / (2-2)", "Division by zero at position 3."],
    ["1%0", "Modulo by zero at position 2."],
    ["2+x", 'Unexpected character "x" at position 3: expected a number or "(".'],
    ["2 3", 'Unexpected character "3" at position 3: expected an operator.'],
    ["1.2.3", 'Unexpected character "." at position 4: expected an operator.'],
    ["()", 'Unexpected character ")" at position 2: expected a number or "(".'],
    ["2+", 'Expected a number or "(" at position 3, but the expression ended.'],
    ["1e", "Incomplete exponent in the number at position 1: write e.g. 1e3."],
    ["(2+3", 'Unbalanced parentheses: "(" at position 1 is never closed.'],
    ["2*((3)", 'Unbalanced parentheses: "(" at position 3 is never closed.'],
    ["2+3)", 'Unbalanced parentheses: ")" at position 4 has no matching "(".'],
    ["", "Empty expression: give numbers and operators, e.g. 17*23."],
    ["   ", "Empty expression: give numbers and operators, e.g. 17*23."],
    ["10^400", "Result is not a finite number (Infinity): the numbers involved are too large or undefined."],
    ["(-8)^0.5", "Result is not a finite number (NaN): the numbers involved are too large or undefined."],
  ])("rejects %j: %s", (expression, message) => {
    const failure = failureOf(expression);
    expect(failure.message).toBe(message);
    expect(failure.code).toBe("arithmetic_error");
  });

  it("rejects expressions longer than 1000 characters before parsing", () => {
    expect(evaluateArithmetic(`${"1+".repeat(499)}1`)).toBe(500);
    expect(failureOf(`${"1+".repeat(500)}1`).message).toBe("Expression is 1001 characters long; the limit is 1000.");
  });
});

describe("calcTool", () => {
  it("returns the expression and its result", async () => {
    expect(await calcTool.execute({ expression: "17*23" }, context)).toEqual({ expression: "17*23", result: 391 });
  });

  it("pins the JSON schema sent to the model", () => {
    expect(calcTool.parameters).toMatchInlineSnapshot(`
      {
        "properties": {
          "expression": {
            "description": "Arithmetic expression, e.g. "17*23" or "(2+3)^2 / 4"; at most 1000 characters",
            "type": "string",
          },
        },
        "required": [
          "expression",
        ],
        "type": "object",
      }
    `);
  });

  it("throws ToolInputError naming the path when expression is missing", async () => {
    const call = calcTool.execute({}, context);
    await expect(call).rejects.toBeInstanceOf(ToolInputError);
    await expect(call).rejects.toThrow("expression: Invalid input: expected string, received undefined");
  });

  it("throws ToolInputError naming the path when expression is a number", async () => {
    const call = calcTool.execute({ expression: 391 }, context);
    await expect(call).rejects.toBeInstanceOf(ToolInputError);
    await expect(call).rejects.toThrow("expression: Invalid input: expected string, received number");
  });

  it("throws ToolFailure for an expression it cannot evaluate", async () => {
    await expect(calcTool.execute({ expression: "1/0" }, context)).rejects.toThrow(
      new ToolFailure("Division by zero at position 2."),
    );
  });
});
