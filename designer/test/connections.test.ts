import { describe, expect, it, vi } from "vitest";
import { connectionProblem } from "../src/flow/connections";
import { knownPorts, portsFor } from "../src/flow/ports";
import { exampleFiles, loadCatalogue, readFlow, serverPorts } from "./helpers";
import type { FlowEdge, FlowNode } from "../src/types";

// The ports come from the Python node types (a process per call, slow on a loaded machine).
vi.setConfig({ testTimeout: 180_000 });

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
const flow = { format: "procedo.flow/1", key: "k", name: "k", subject_type: "invoice", trigger: { kind: "manual" }, nodes, edges };
const known = knownPorts(flow, serverPorts([flow])[0]!);
const problem = (source: string, sourceHandle: string, target: string) =>
  connectionProblem({ source, sourceHandle, target }, nodes, edges, catalogue, known);

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

describe("every example flow", () => {
  it("each edge leaves from a port the server derives for its node, and is accepted", () => {
    const flows = exampleFiles().map(readFlow);
    const answers = serverPorts(flows);
    flows.forEach((flow, i) => {
      const known = knownPorts(flow, answers[i]!);
      for (const edge of flow.edges) {
        const node = flow.nodes.find((n) => n.id === edge.source)!;
        const names = portsFor(catalogue.get(node.type), node, known.get(node.id)).map((p) => p.name);
        expect(names, `${flow.key}: ${edge.id}`).toContain(edge.source_port);
        const others = flow.edges.filter((e) => e !== edge);
        expect(connectionProblem({ source: edge.source, sourceHandle: edge.source_port, target: edge.target }, flow.nodes, others, catalogue, known), `${flow.key}: ${edge.id}`).toBeNull();
      }
    });
  });
});
