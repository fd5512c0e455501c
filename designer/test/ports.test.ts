import { beforeAll, describe, expect, it, vi } from "vitest";
import { followEdit, knownPorts, portsFor } from "../src/flow/ports";
import type { Flow, FlowNode, PortInfo } from "../src/types";
import { exampleFiles, loadCatalogue, readFlow, serverPorts } from "./helpers";

// The ports come from the Python node types: one process answers for every flow here.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 });

const catalogue = loadCatalogue();
const task: FlowNode = {
  id: "task",
  type: "assign_role",
  params: { title: "T", assignee: { role: "A" }, outcomes: [{ port: "approve", label: "Approve" }, { port: "reject", label: "Reject" }], due: { amount: 2, unit: "days" } },
};
const renamedTask = structuredClone(task);
(renamedTask.params!.outcomes as { port: string; label: string }[])[0] = { port: "accept", label: "Accept" };
const flowOf = (nodes: FlowNode[]): Flow => ({ format: "procedo.flow/1", key: "k", name: "k", subject_type: "invoice", trigger: { kind: "manual" }, nodes, edges: [] });

// Every example with its first branch's or outcome's port renamed, node by node.
const examples = exampleFiles().map(readFlow);
const renamings: { flow: number; node: FlowNode; renamed: Flow }[] = [];
examples.forEach((flow, i) => {
  for (const node of flow.nodes) {
    const changed = structuredClone(node);
    const list = (changed.params?.outcomes ?? changed.params?.branches) as { port: string }[] | undefined;
    if (!Array.isArray(list) || !list.length) continue;
    list[0]!.port = `${list[0]!.port}_x`;
    renamings.push({ flow: i, node: changed, renamed: { ...flow, nodes: flow.nodes.map((n) => (n.id === node.id ? changed : n)) } });
  }
});

let answers: Record<string, PortInfo[]>[] = [];
beforeAll(() => {
  answers = serverPorts([flowOf([task]), flowOf([renamedTask]), ...examples, ...renamings.map((r) => r.renamed)]);
});

describe("ports come from the server", () => {
  it("uses the server's answer for the params it was about", () => {
    const known = knownPorts(flowOf([task]), answers[0]!);
    expect(portsFor(catalogue.get("assign_role"), task, known.get("task")).map((p) => p.name)).toEqual(["approve", "reject", "overdue"]);
  });

  it("follows a rename at once, before the server answers, as the server then answers", () => {
    const known = knownPorts(flowOf([task]), answers[0]!).get("task")!;
    const local = portsFor(catalogue.get("assign_role"), renamedTask, known);
    expect(local.map((p) => p.name)).toEqual(["accept", "reject", "overdue"]);
    expect(local[0]!.label.de).toBe("Accept");
    expect(answers[1]!.task).toEqual(local);
  });

  it("drops the port of a removed outcome and keeps ports the params do not name", () => {
    const fewer = structuredClone(task);
    (fewer.params!.outcomes as unknown[]).splice(1, 1);
    expect(followEdit(answers[0]!.task!, task.params, fewer.params).map((p) => p.name)).toEqual(["approve", "overdue"]);
  });

  it("for every example's branches and outcomes, a renamed port followed locally is what the server derives", () => {
    expect(renamings.length).toBeGreaterThan(5);
    renamings.forEach((r, i) => {
      const before = knownPorts(examples[r.flow]!, answers[2 + r.flow]!).get(r.node.id);
      const local = portsFor(catalogue.get(r.node.type), r.node, before).map((p) => p.name);
      const server = answers[2 + examples.length + i]![r.node.id]!.map((p) => p.name);
      expect(local, `${examples[r.flow]!.key} ${r.node.id}`).toEqual(server);
    });
  });

  it("a new node shows its type's ports for the example params", () => {
    for (const info of catalogue.values()) {
      expect(portsFor(info, { params: info.example ?? undefined }).map((p) => p.name)).toEqual(info.ports.map((p) => p.name));
    }
  });
});
