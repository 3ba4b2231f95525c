import { ToolFailure } from "../tool.ts";

/** Longest expression evaluateArithmetic accepts, so a runaway model cannot make us recurse forever. */
export const maxExpressionLength = 1000;

/*
 * Grammar, loosest binding first:
 *   expression := term (("+" | "-") term)*
 *   term       := unary (("*" | "/" | "%") unary)*
 *   unary      := ("-" | "+") unary | power
 *   power      := primary ("^" unary)?        right-associative; "2^-1" is allowed
 *   primary    := number | "(" expression ")"
 * Unary minus sits above power, so "-2^2" is -(2^2) = -4 as in mathematics.
 */

/** `×` and `÷` are what people paste from documents; they mean `*` and `/`. */
const operatorAliases: Readonly<Record<string, string>> = { "×": "*", "÷": "/" };

/**
 * Evaluates an arithmetic expression: numbers (`12`, `1.5`, `.5`, `1e3`), `+ - * / % ^`, parentheses,
 * unary signs. Positions in error messages count characters from 1. Throws ToolFailure, never evaluates code.
 */
export function evaluateArithmetic(expression: string): number {
  if (expression.length > maxExpressionLength) {
    throw fail(`Expression is ${expression.length} characters long; the limit is ${maxExpressionLength}.`);
  }
  if (expression.trim() === "") throw fail("Empty expression: give numbers and operators, e.g. 17*23.");

  const source = expression;
  let index = 0;

  /** Skips whitespace and returns the next significant character (aliases resolved), or undefined at the end. */
  function peek(): string | undefined {
    while (index < source.length && /\s/.test(source[index] ?? "")) index++;
    const char = source[index];
    return char === undefined ? undefined : (operatorAliases[char] ?? char);
  }

  const position = (): number => index + 1;

  function unexpected(what: string): ToolFailure {
    const char = source[index];
    if (char === undefined) return fail(`Expected ${what} at position ${position()}, but the expression ended.`);
    return fail(`Unexpected character "${char}" at position ${position()}: expected ${what}.`);
  }

  function parseExpression(): number {
    let value = parseTerm();
    for (let op = peek(); op === "+" || op === "-"; op = peek()) {
      index++;
      const right = parseTerm();
      value = op === "+" ? value + right : value - right;
    }
    return value;
  }

  function parseTerm(): number {
    let value = parseUnary();
    for (let op = peek(); op === "*" || op === "/" || op === "%"; op = peek()) {
      const at = position();
      index++;
      const right = parseUnary();
      if (op === "*") value *= right;
      else if (right === 0) throw fail(`${op === "/" ? "Division" : "Modulo"} by zero at position ${at}.`);
      else value = op === "/" ? value / right : value % right;
    }
    return value;
  }

  function parseUnary(): number {
    const op = peek();
    if (op === "-" || op === "+") {
      index++;
      const value = parseUnary();
      return op === "-" ? -value : value;
    }
    return parsePower();
  }

  function parsePower(): number {
    const base = parsePrimary();
    if (peek() !== "^") return base;
    index++;
    // Recursing into unary (not primary) makes "^" right-associative: 2^3^2 = 2^(3^2).
    return base ** parseUnary();
  }

  function parsePrimary(): number {
    const char = peek();
    if (char === "(") {
      const open = position();
      index++;
      const value = parseExpression();
      if (peek() !== ")") {
        if (peek() === undefined) throw fail(`Unbalanced parentheses: "(" at position ${open} is never closed.`);
        throw unexpected(`an operator or ")" to close "(" at position ${open}`);
      }
      index++;
      return value;
    }
    if (char !== undefined && /[0-9.]/.test(char)) return parseNumber();
    throw unexpected("a number or \"(\"");
  }

  function parseNumber(): number {
    const start = index;
    const match = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(source.slice(index));
    if (match === null) throw unexpected("a number");
    index += match[0].length;
    // "1e" or "2e+" would otherwise stop before the "e" and report it as a stray character.
    if (/^[eE]/.test(source.slice(index))) {
      throw fail(`Incomplete exponent in the number at position ${start + 1}: write e.g. 1e3.`);
    }
    return Number(match[0]);
  }

  const result = parseExpression();
  if (peek() === ")") throw fail(`Unbalanced parentheses: ")" at position ${position()} has no matching "(".`);
  if (peek() !== undefined) throw unexpected("an operator");
  if (!Number.isFinite(result)) {
    throw fail(`Result is not a finite number (${result}): the numbers involved are too large or undefined.`);
  }
  // -0 serialises as 0 in JSON anyway; normalise so callers comparing with Object.is are not surprised.
  return result === 0 ? 0 : result;
}

function fail(message: string): ToolFailure {
  return new ToolFailure(message, { code: "arithmetic_error" });
}
