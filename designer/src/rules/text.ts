// The rule text form (the CEL subset of docs/rules.md), in the browser.
// formatRule writes a tree as canonical text the same way procedo.rules.text does;
// parseRule reads text back into a tree, refusing anything that is not a
// comparison of a field with a literal joined by &&, || and !.
import type { CompareOp, Rule, ScalarValue, Value } from "../types";

export class RuleSyntaxError extends Error {
  constructor(
    message: string,
    public column: number | null = null,
  ) {
    super(message);
  }
}

const OP_TEXT: Partial<Record<CompareOp, string>> = {
  "=": "==",
  "!=": "!=",
  "<": "<",
  ">": ">",
  "<=": "<=",
  ">=": ">=",
};

function quote(text: string): string {
  return (
    '"' +
    text.replace(/[\\"\n\r\t]/g, (c) => ({ "\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t" })[c]!) +
    '"'
  );
}

export function formatValue(value: Value): string {
  switch (value.type) {
    case "decimal":
      return String(value.value);
    case "string":
      return quote(value.value);
    case "bool":
      return value.value ? "true" : "false";
    case "date":
      return `date(${quote(value.value)})`;
    case "datetime":
      return `timestamp(${quote(value.value)})`;
    case "list":
      return `[${value.items.map(formatValue).join(", ")}]`;
  }
}

function isMethodStyle(rule: Rule): boolean {
  return (
    rule.kind === "compare" && ["contains", "between", "is_empty", "is_set"].includes(rule.op)
  );
}

function compareText(rule: Extract<Rule, { kind: "compare" }>): string {
  const f = rule.field;
  const v = rule.value;
  switch (rule.op) {
    case "is_empty":
      return `${f}.isEmpty()`;
    case "is_set":
      return `${f}.isSet()`;
    case "contains":
      return `${f}.contains(${v ? formatValue(v) : ""})`;
    case "between": {
      const items = v && v.type === "list" ? v.items : [];
      return `${f}.between(${items.map(formatValue).join(", ")})`;
    }
    case "in":
      return `${f} in ${v ? formatValue(v) : "[]"}`;
    default:
      return `${f} ${OP_TEXT[rule.op]} ${v ? formatValue(v) : "null"}`;
  }
}

/** Canonical text for a rule tree. */
export function formatRule(rule: Rule, nested = false): string {
  switch (rule.kind) {
    case "compare":
      return compareText(rule);
    case "not": {
      const inner = rule.rule;
      const simple =
        isMethodStyle(inner) ||
        inner.kind === "not" ||
        ((inner.kind === "all" || inner.kind === "any") && inner.rules.length === 0);
      return simple ? `!${formatRule(inner, true)}` : `!(${formatRule(inner, false)})`;
    }
    case "all":
    case "any": {
      if (rule.rules.length === 0) return rule.kind === "all" ? "true" : "false";
      if (rule.rules.length === 1) return formatRule(rule.rules[0]!, nested);
      const text = rule.rules.map((r) => formatRule(r, true)).join(rule.kind === "all" ? " && " : " || ");
      return nested ? `(${text})` : text;
    }
  }
}

// ------------------------------------------------------------------ parse

interface Token {
  kind: "ident" | "number" | "string" | "op" | "end";
  text: string;
  value?: string;
  at: number;
}

const FIELD_RE = /^(subject|vars)(\.[A-Za-z][A-Za-z0-9_]*)+$/;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i += 1;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (["&&", "||", "==", "!=", "<=", ">="].includes(two)) {
      tokens.push({ kind: "op", text: two, at: i });
      i += 2;
      continue;
    }
    if ("!<>()[],.".includes(c)) {
      tokens.push({ kind: "op", text: c, at: i });
      i += 1;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let out = "";
      while (j < text.length && text[j] !== c) {
        if (text[j] === "\\" && j + 1 < text.length) {
          const n = text[j + 1]!;
          out += ({ n: "\n", r: "\r", t: "\t" } as Record<string, string>)[n] ?? n;
          j += 2;
        } else {
          out += text[j];
          j += 1;
        }
      }
      if (j >= text.length) throw new RuleSyntaxError(`the text starting at column ${i + 1} has no closing quote`, i + 1);
      tokens.push({ kind: "string", text: text.slice(i, j + 1), value: out, at: i });
      i = j + 1;
      continue;
    }
    const number = /^-?\d+(\.\d+)?/.exec(text.slice(i));
    if (number && (c !== "-" || !tokens.length || tokens[tokens.length - 1]!.kind === "op")) {
      tokens.push({ kind: "number", text: number[0], value: number[0], at: i });
      i += number[0].length;
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (ident) {
      tokens.push({ kind: "ident", text: ident[0], at: i });
      i += ident[0].length;
      continue;
    }
    throw new RuleSyntaxError(`'${c}' at column ${i + 1} is not rule syntax`, i + 1);
  }
  tokens.push({ kind: "end", text: "", at: text.length });
  return tokens;
}

const REL: Record<string, CompareOp> = { "==": "=", "!=": "!=", "<": "<", ">": ">", "<=": "<=", ">=": ">=" };

class Parser {
  i = 0;
  constructor(private tokens: Token[]) {}
  peek(): Token {
    return this.tokens[this.i]!;
  }
  next(): Token {
    return this.tokens[this.i++]!;
  }
  fail(message: string, token = this.peek()): never {
    throw new RuleSyntaxError(`${message} at column ${token.at + 1}`, token.at + 1);
  }
  expect(text: string): Token {
    const t = this.next();
    if (t.text !== text) this.fail(`expected '${text}'${t.text ? `, found '${t.text}'` : ""}`, t);
    return t;
  }
  or(): Rule {
    const parts = [this.and()];
    while (this.peek().text === "||") {
      this.next();
      parts.push(this.and());
    }
    return parts.length === 1 ? parts[0]! : { kind: "any", rules: parts };
  }
  and(): Rule {
    const parts = [this.unary()];
    while (this.peek().text === "&&") {
      this.next();
      parts.push(this.unary());
    }
    return parts.length === 1 ? parts[0]! : { kind: "all", rules: parts };
  }
  unary(): Rule {
    if (this.peek().text === "!") {
      this.next();
      return { kind: "not", rule: this.unary() };
    }
    return this.primary();
  }
  primary(): Rule {
    const t = this.peek();
    if (t.text === "(") {
      this.next();
      const inner = this.or();
      this.expect(")");
      return inner;
    }
    if (t.kind === "ident" && (t.text === "true" || t.text === "false")) {
      this.next();
      return t.text === "true" ? { kind: "all", rules: [] } : { kind: "any", rules: [] };
    }
    if (t.kind === "ident") return this.comparison();
    return this.fail(t.kind === "end" ? "the rule ends too early" : `'${t.text}' cannot start a condition`);
  }
  comparison(): Rule {
    const start = this.peek();
    const parts = [this.next().text];
    let method: string | null = null;
    while (this.peek().text === ".") {
      this.next();
      const name = this.next();
      if (name.kind !== "ident") this.fail("expected a field name after '.'", name);
      if (this.peek().text === "(") {
        method = name.text;
        break;
      }
      parts.push(name.text);
    }
    const field = parts.join(".");
    if (!FIELD_RE.test(field)) {
      this.fail(`'${field}' is not a field: start with subject. or vars., e.g. subject.payable_amount`, start);
    }
    if (method !== null) {
      this.expect("(");
      const args: ScalarValue[] = [];
      while (this.peek().text !== ")") {
        args.push(this.scalar());
        if (this.peek().text === ",") this.next();
        else break;
      }
      this.expect(")");
      const arity: Record<string, number> = { contains: 1, between: 2, isEmpty: 0, isSet: 0 };
      if (!(method in arity)) this.fail(`unknown function '${method}': use contains, between, isEmpty or isSet`, start);
      if (args.length !== arity[method]) this.fail(`${method} takes ${arity[method]} value(s)`, start);
      if (method === "isEmpty") return { kind: "compare", field, op: "is_empty" };
      if (method === "isSet") return { kind: "compare", field, op: "is_set" };
      if (method === "contains") return { kind: "compare", field, op: "contains", value: args[0]! };
      return { kind: "compare", field, op: "between", value: { type: "list", items: args } };
    }
    const op = this.next();
    if (op.kind === "ident" && op.text === "in") {
      this.expect("[");
      const items: ScalarValue[] = [];
      while (this.peek().text !== "]") {
        items.push(this.scalar());
        if (this.peek().text === ",") this.next();
        else break;
      }
      this.expect("]");
      return { kind: "compare", field, op: "in", value: { type: "list", items } };
    }
    const rel = REL[op.text];
    if (!rel) this.fail(`expected a comparison (==, !=, <, >, <=, >=, in) after ${field}`, op);
    return { kind: "compare", field, op: rel, value: this.scalar() };
  }
  scalar(): ScalarValue {
    const t = this.next();
    if (t.kind === "number") return { type: "decimal", value: t.value! };
    if (t.kind === "string") return { type: "string", value: t.value! };
    if (t.kind === "ident" && (t.text === "true" || t.text === "false")) return { type: "bool", value: t.text === "true" };
    if (t.kind === "ident" && (t.text === "date" || t.text === "timestamp")) {
      this.expect("(");
      const s = this.next();
      if (s.kind !== "string") this.fail(`${t.text}() takes a quoted value, e.g. date("2026-01-31")`, s);
      this.expect(")");
      if (t.text === "date") {
        if (!/^\d{4}-\d{2}-\d{2}$/.test(s.value!)) this.fail("a date is written YYYY-MM-DD", s);
        return { type: "date", value: s.value! };
      }
      return { type: "datetime", value: s.value! };
    }
    return this.fail(t.kind === "end" ? "a value is missing at the end" : `'${t.text}' is not a value (a number, "text", true, false, date("..."))`, t);
  }
}

/** Parse rule text into a rule tree; throws RuleSyntaxError with what to fix. */
export function parseRule(text: string): Rule {
  if (!text.trim()) throw new RuleSyntaxError('the rule is empty: write a condition, e.g. subject.payable_amount > 500 && subject.currency == "EUR"');
  const parser = new Parser(tokenize(text));
  const rule = parser.or();
  const rest = parser.peek();
  if (rest.kind !== "end") parser.fail(`unexpected '${rest.text}'`);
  return rule;
}
