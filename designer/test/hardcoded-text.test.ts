// No English typed straight into the pages: every text a user reads comes from texts/*.ts
// (or the catalogue), so nl and de never show a forgotten English word. The TSX is read
// with the TypeScript compiler: JSX text and literal title/placeholder/aria-label/alt.
import { readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const SRC = fileURLToPath(new URL("../src", import.meta.url));
const READ_ATTRIBUTES = new Set(["title", "placeholder", "aria-label", "alt"]);
// Names and symbols, not language.
const ALLOWED = new Set(["Procedo", "JSON", "CSV", "PDF", "IBAN", "BIC", "SMTP", "UBL", "OK"]);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : full.endsWith(".tsx") ? [full] : [];
  });
}

export function literalTexts(source: string, name = "x.tsx"): string[] {
  const file = ts.createSourceFile(name, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TSX);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isJsxText(node)) {
      const text = node.text.trim();
      if (/[A-Za-z]{2,}/.test(text)) found.push(text);
    } else if (ts.isJsxAttribute(node) && READ_ATTRIBUTES.has(node.name.getText(file))) {
      const value = node.initializer;
      if (value && ts.isStringLiteral(value) && /[A-Za-z]{2,}/.test(value.text)) found.push(value.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  // A field path such as subject.… is notation, not language.
  return found.filter((t) => !ALLOWED.has(t) && !/^[a-z_]+\.[a-z_.…]*$/.test(t));
}

describe("pages and components", () => {
  it("finds typed-in text (else this test proves nothing)", () => {
    expect(literalTexts('const a = <p title="Close it">Save draft <b>{x}</b></p>;')).toEqual(["Close it", "Save draft"]);
    expect(literalTexts("const a = <p>{t(\"save\")}</p>; let b: Promise<Array<string>>;")).toEqual([]);
  });
  it.each(files(SRC).map((f) => [path.relative(SRC, f), f]))("%s has no English typed into it", (_name, file) => {
    expect(literalTexts(readFileSync(file as string, "utf8"), file as string)).toEqual([]);
  });
});
