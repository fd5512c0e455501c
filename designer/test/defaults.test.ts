import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fitExample, otherTypeWords, type SubjectTypeInfo } from "../src/flow/defaults";
import { loadCatalogue, ROOT } from "./helpers";

const catalogue = loadCatalogue();
const subjectType = (name: string) =>
  JSON.parse(readFileSync(path.join(ROOT, "backend", "procedo", "subject_types", `${name}.json`), "utf8")) as SubjectTypeInfo;

/** A flow of one node of every type with its starting params, and what `procedo validate` says of it. */
function problemsOfNewNodes(type: string): string {
  const st = subjectType(type);
  const nodes = [...catalogue.values()].map((info) => {
    const params = fitExample(info.example, st);
    return { id: info.type, type: info.type, ...(params ? { params } : {}) };
  });
  const flow = { format: "procedo.flow/1", key: "new-nodes", name: "New nodes", subject_type: type, trigger: { kind: "manual" }, nodes, edges: [] };
  const file = path.join(mkdtempSync(path.join(tmpdir(), "procedo-defaults-")), "flow.json");
  writeFileSync(file, JSON.stringify(flow));
  try {
    return execFileSync(path.join(ROOT, ".venv", "bin", "procedo"), ["validate", file], { encoding: "utf8" });
  } catch (e) {
    return String((e as { stdout?: string }).stdout ?? e);
  }
}

// The problems that say a value was written for another subject type.
const FOREIGN = /rule\.field\.unknown|template\.field\.unknown|status\.unknown|field\.unknown|rule\.value/;

describe("the params a new node starts with", () => {
  it.each(["debtor", "client"])("fit a %s flow: no field or status of another subject type", (type) => {
    const printed = problemsOfNewNodes(type);
    expect(printed.split("\n").filter((line) => FOREIGN.test(line))).toEqual([]);
  }, 60_000); // `procedo validate` starts Python: seconds on a busy machine

  it("leave texts about another subject type to write (no 'Approve invoice' task on a debtor flow)", () => {
    const dir = path.join(ROOT, "backend", "procedo", "subject_types");
    const all = readdirSync(dir).map((f) => JSON.parse(readFileSync(path.join(dir, f), "utf8")) as SubjectTypeInfo);
    const onDebtor = otherTypeWords(all, "debtor");
    expect(onDebtor).toContain("invoice");
    expect(onDebtor).not.toContain("debtor");
    const task = catalogue.get("assign_role")!.example!;
    const fitted = fitExample(task, subjectType("debtor"), onDebtor) as Record<string, unknown>;
    expect(fitted.title).toBe("");
    expect(fitted.outcomes).toEqual(task.outcomes); // ports and button texts are not about a type
    const onInvoice = otherTypeWords(all, "invoice");
    expect(onInvoice).not.toContain("supplier"); // a field group of the invoice's own
    expect(fitExample(task, subjectType("invoice"), onInvoice)).toEqual(task);
  });

  it("keep the invoice example on an invoice flow", () => {
    const condition = catalogue.get("condition")!.example!;
    expect(fitExample(condition, subjectType("invoice"))).toEqual(condition);
    const email = catalogue.get("email")!.example!;
    expect(fitExample(email, subjectType("invoice"))).toEqual(email);
  });

  it("use a debtor field of the same kind in a rule, and leave invoice texts to write", () => {
    const debtor = subjectType("debtor");
    const condition = fitExample(catalogue.get("condition")!.example, debtor) as { branches: { when: { field: string; value: unknown } }[] };
    expect(condition.branches[0]!.when.field).toBe("subject.debt_amount");
    expect(condition.branches[0]!.when.value).toEqual({ type: "decimal", value: "500" });
    const email = fitExample(catalogue.get("email")!.example, debtor) as Record<string, unknown>;
    expect(email.subject).toBe("");
    expect(email.body).toBe("");
    expect(email.to).toEqual(catalogue.get("email")!.example!.to);
    expect(fitExample(catalogue.get("status_change")!.example, debtor)).toEqual({});
  });
});
