import { describe, expect, it } from "vitest";
import { connectionProblem } from "../src/flow/connections";
import { portsFor } from "../src/flow/ports";
import { exampleFiles, loadCatalogue, readFlow } from "./helpers";
import type { FlowEdge, FlowNode } from "../src/types";

const catalogue = loadCatalogue();
const nodes: FlowNode[] = [
  { id: "start", type: "start" },
  { id: "check", type: "condition", params: { branches: [{ port: "small", when: { kind: "compare", field: "subject.payable_amount", op: "<=", value: { type: "decimal", value: "500" } } }] } },
  { id: "task", type: "assign_role", params: { title: "T", assignee: { role: "A" }, outcomes: [{ port: "approve", label: "Approve" }], due: { amount: 2, unit: "days" } } },
  { id: "task2", type: "assign_role", params: { title: "T", assignee: { role: "A" }, outcomes: [{ port: "ok", label: "OK" }] } },
  { id: "esc", type: "escalate", params: { remind: true } },
  { id: "end", type: "end" },
];
const edges: FlowEdge[] = [{ id: "e1", source: "start", source_port: "next", target: "check" }];
const problem = (source: string, sourceHandle: string, target: string) =>
  connectionProblem({ source, sourceHandle, target }, nodes, edges, catalogue);

describe("connection rules", () => {
  it("accepts an output port to another node", () => {
    expect(problem("check", "small", "task")).toBeNull();
    expect(problem("check", "else", "end")).toBeNull();
    expect(problem("task", "approve", "end")).toBeNull();
  });
  it("refuses edges into the start node", () => {
    expect(problem("check", "else", "start")).toMatch(/start/);
  });
  it("refuses self-loops", () => {
    expect(problem("task", "approve", "task")).toMatch(/itself/);
  });
  it("refuses ports the node does not have", () => {
    expect(problem("check", "big", "end")).toMatch(/no output port/);
    expect(problem("task2", "overdue", "end")).toMatch(/no output port/);
    expect(problem("end", "next", "task")).toMatch(/no output port/);
  });
  it("refuses the same connection twice", () => {
    expect(problem("start", "next", "check")).toMatch(/already/);
  });
  it("lets escalate follow only an overdue port", () => {
    expect(problem("task", "overdue", "esc")).toBeNull();
    expect(problem("task", "approve", "esc")).toMatch(/overdue/);
  });
  it("refuses unknown nodes", () => {
    expect(problem("ghost", "next", "end")).not.toBeNull();
  });
});

describe("ports follow the params", () => {
  it("condition: one per branch, then else", () => {
    expect(portsFor(catalogue.get("condition"), nodes[1]!.params).map((p) => p.name)).toEqual(["small", "else"]);
  });
  it("assign_role: one per outcome, plus overdue with a due time", () => {
    expect(portsFor(catalogue.get("assign_role"), nodes[2]!.params).map((p) => p.name)).toEqual(["approve", "overdue"]);
    expect(portsFor(catalogue.get("assign_role"), nodes[3]!.params).map((p) => p.name)).toEqual(["ok"]);
  });
  it("email: no_address unless the address is fixed", () => {
    expect(portsFor(catalogue.get("email"), { to: { kind: "address", address: "a@b.nl" } }).map((p) => p.name)).toEqual(["sent"]);
    expect(portsFor(catalogue.get("email"), { to: { kind: "field", field: "subject.email" } }).map((p) => p.name)).toEqual(["sent", "no_address"]);
  });
  it("wait: timeout with a timeout set, in every mode that has one", () => {
    for (const mode of ["event", "condition", "rule"]) {
      const until = { mode, timeout: { amount: 5, unit: "days" } };
      expect(portsFor(catalogue.get("wait"), { until }).map((p) => p.name), mode).toEqual(["next", "timeout"]);
      expect(portsFor(catalogue.get("wait"), { until: { mode } }).map((p) => p.name), mode).toEqual(["next"]);
    }
  });
  it("the catalogue's own example params give the catalogue's ports", () => {
    for (const info of catalogue.values()) {
      if (!info.example) continue;
      expect(portsFor(info, info.example).map((p) => p.name)).toEqual(info.ports.map((p) => p.name));
    }
  });
  it("every edge of every example flow leaves from a port its node has, and is accepted", () => {
    for (const file of exampleFiles()) {
      const flow = readFlow(file);
      for (const edge of flow.edges) {
        const node = flow.nodes.find((n) => n.id === edge.source)!;
        const names = portsFor(catalogue.get(node.type), node.params).map((p) => p.name);
        expect(names, `${file}: ${edge.id}`).toContain(edge.source_port);
        const others = flow.edges.filter((e) => e !== edge);
        expect(connectionProblem({ source: edge.source, sourceHandle: edge.source_port, target: edge.target }, flow.nodes, others, catalogue), `${file}: ${edge.id}`).toBeNull();
      }
    }
  });
});
