import { readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { describeProblem, problemKey, type ProblemContext } from "../src/flow/problems";
import { history } from "../src/texts/history";
import { ROOT } from "./helpers";

function pythonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return ["migrations", "web", "ubl", "receivables", "__pycache__"].includes(name) ? [] : pythonFiles(full);
    return name.endsWith(".py") ? [full] : [];
  });
}

/** Every problem code the validator and the checks it runs can emit, read from the sources. */
function emittedCodes(): string[] {
  const files = [...pythonFiles(path.join(ROOT, "backend", "procedo")), ...pythonFiles(path.join(ROOT, "nodes"))];
  const patterns = [
    /code=f?"([a-z_{}]+(?:\.[a-z_{}]+)+)"/g,
    /\b(?:problem|_Finding|add|report)\(\s*f?"([a-z_{}]+(?:\.[a-z_{}]+)+)"/g,
  ];
  const codes = new Set<string>();
  for (const file of files) {
    const source = readFileSync(file, "utf8");
    for (const pattern of patterns) for (const m of source.matchAll(pattern)) codes.add(m[1]!);
  }
  // Not about flows: invoice, bank and CSV files, request bodies, settings and print forms.
  const elsewhere = ["ubl.", "camt.", "csv.", "request.", "settings.", "letters."];
  return [...codes].filter((c) => !elsewhere.some((prefix) => c.startsWith(prefix)));
}

const ctx: ProblemContext = {
  nodeLabel: (id) => ({ mail: "Mahnung senden", task: "Freigabe", end: "Ende" })[id] ?? id,
  fieldTitle: (_id, p) => ({ "$.body": "Text", "$.outcomes[0].port": "Ausgang" })[p] ?? null,
  portLabel: (_id, port) => (port === "approve" ? "Freigeben" : port),
  edges: [{ id: "e1", source: "task", source_port: "gone", target: "end" }],
};

describe("problems in plain language", () => {
  it("has a sentence for every code the validator emits", () => {
    const codes = emittedCodes();
    expect(codes.length).toBeGreaterThan(40);
    const missing = codes.filter((code) => {
      if (!code.includes("{")) return problemKey(code) === null && !/\.source\.invalid$/.test(code);
      // A code built from parts ("edge.{end}.unknown"): some sentence must fit it.
      const shape = new RegExp(`^problem:${code.replace(/\./g, "\\.").replace(/\{[a-z_]+\}/g, "[a-z_]+")}$`);
      return !Object.keys(history).some((key) => shape.test(key));
    });
    expect(missing).toEqual([]);
  });

  it("every sentence exists in all three languages, nl and de not the English", () => {
    for (const [key, texts] of Object.entries(history)) {
      if (!key.startsWith("problem:") || key === "problem:other") continue;
      expect(texts.every(Boolean), key).toBe(true);
      expect(texts[1], key).not.toBe(texts[0]);
      expect(texts[2], key).not.toBe(texts[0]);
    }
  });

  it("names the node's label and the field's title, keeping code and message for support", () => {
    const p = { code: "template.field.unknown", message: "line 1: 'invoice' has no field 'supplier.nmae'", node: "mail", path: "$.params.body" };
    const d = describeProblem(p, "de", ctx);
    expect(d.text).toBe("„Mahnung senden“, „Text“: Der Text nennt ein Feld, das der Objekttyp nicht hat („supplier.nmae“).");
    expect(d.code).toContain("template.field.unknown");
    expect(d.code).toContain(p.message);
  });

  it("says which way out leads nowhere and which connection is broken", () => {
    const unconnected = describeProblem({ code: "node.port.unconnected", message: "x", node: "task", path: "$.ports.approve" }, "nl", ctx);
    expect(unconnected.text).toBe("‘Freigabe’: de uitgang ‘Freigeben’ leidt nergens heen; verbind hem met de volgende stap.");
    const edge = describeProblem({ code: "edge.port.unknown", message: "node 'task' (assign_role) has no output port 'gone'; its ports are: a", edge: "e1" }, "de", ctx);
    expect(edge.text).toBe("Die Verbindung von „Freigabe“ nach „Ende“ geht über „gone“, einen Ausgang, den der Schritt nicht mehr hat; neu verbinden.");
    const flow = describeProblem({ code: "flow.invalid", message: "Object missing required field `every`", path: "$.trigger" }, "nl", ctx);
    expect(flow.text).toBe("De flow, ‘Trigger’: deze waarde ontbreekt of heeft de verkeerde vorm.");
  });
});
