import { describe, expect, it } from "vitest";
import { formatRule, parseRule } from "../src/rules/text";
import { exampleFiles, readFlow } from "./helpers";
import type { Rule } from "../src/types";

const texts = [
  "subject.supplier.trusted == true && subject.payable_amount <= 250.00",
  'subject.supplier.kvk in ["12345678", "87654321"]',
  "!subject.order_reference.isSet() || subject.debt_amount.between(300, 4000)",
  'subject.due_date < date("2026-01-31") && subject.supplier.name.contains("Energie")',
  'subject.a == 1 && (subject.b == 2 || subject.c.isEmpty()) && !(subject.d == "x")',
  'subject.at >= timestamp("2026-01-31T10:00:00+01:00")',
  "true",
  "false",
];

function rules(value: unknown, out: Rule[] = []): Rule[] {
  if (Array.isArray(value)) value.forEach((v) => rules(v, out));
  else if (value && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (obj.kind === "compare" || ((obj.kind === "all" || obj.kind === "any") && Array.isArray(obj.rules)) || (obj.kind === "not" && obj.rule)) {
      out.push(obj as unknown as Rule);
      return out;
    }
    Object.values(obj).forEach((v) => rules(v, out));
  }
  return out;
}

describe("rule text", () => {
  for (const text of texts) {
    it(`reads and writes ${text}`, () => {
      expect(formatRule(parseRule(text))).toBe(text);
    });
  }
  it("round-trips every rule of the example flows", () => {
    let count = 0;
    for (const file of exampleFiles()) {
      for (const rule of rules(readFlow(file))) {
        // decimals may be written as JSON numbers in a flow file; the text form reads them as decimal strings
        const expected = JSON.parse(JSON.stringify(rule), (k, v) => (k === "value" && typeof v === "number" ? String(v) : v));
        expect(parseRule(formatRule(rule))).toEqual(expected);
        count += 1;
      }
    }
    expect(count).toBeGreaterThan(5);
  });
  it("builds the tree", () => {
    expect(parseRule("subject.payable_amount > 500")).toEqual({ kind: "compare", field: "subject.payable_amount", op: ">", value: { type: "decimal", value: "500" } });
  });
  it("refuses what is not a rule, saying what to do", () => {
    expect(() => parseRule("")).toThrow(/empty/);
    expect(() => parseRule("payable_amount > 5")).toThrow(/subject\./);
    expect(() => parseRule("subject.a > ")).toThrow(/value/);
    expect(() => parseRule("subject.a + 1 > 2")).toThrow();
    expect(() => parseRule("subject.a.foo(1)")).toThrow(/unknown function/);
  });
});
