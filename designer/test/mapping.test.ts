import { describe, expect, it } from "vitest";
import { canvasToFlow, flowToCanvas, fromCanvasNode } from "../src/flow/mapping";
import { exampleFiles, readFlow } from "./helpers";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Flow } from "../src/types";

describe("canvas <-> flow JSON", () => {
  const files = exampleFiles();
  it("finds the example flows", () => {
    expect(files.length).toBeGreaterThanOrEqual(7);
  });

  for (const file of files) {
    it(`round-trips ${path.basename(file)} exactly`, () => {
      const text = readFileSync(file, "utf8");
      const flow = JSON.parse(text) as Flow;
      const canvas = flowToCanvas(flow);
      const back = canvasToFlow(canvas.meta, canvas.nodes, canvas.edges);
      // same values and the same key order: the canonical text comes back byte for byte
      expect(JSON.stringify(back, null, 2)).toBe(JSON.stringify(JSON.parse(text), null, 2));
      expect(back).toEqual(flow);
    });
  }

  it("maps nodes and edges to the canvas", () => {
    const flow = readFlow(exampleFiles().find((f) => f.endsWith("invoice-approval.json"))!);
    const canvas = flowToCanvas(flow);
    expect(canvas.nodes).toHaveLength(flow.nodes.length);
    expect(canvas.edges).toHaveLength(flow.edges.length);
    const edge = canvas.edges.find((e) => e.id === "route-else-approve_acc")!;
    expect(edge.sourceHandle).toBe("else");
    expect(edge.source).toBe("route");
    expect(canvas.nodes.find((n) => n.id === "checks")!.position).toEqual({ x: 250, y: 300 });
  });

  it("keeps a node without position unplaced until it is moved", () => {
    const flow: Flow = {
      format: "procedo.flow/1",
      key: "k",
      name: "n",
      subject_type: "invoice",
      trigger: { kind: "manual" },
      nodes: [
        { id: "start", type: "start", position: { x: 0, y: 0 } },
        { id: "end", type: "end", params: { status: "done" } },
      ],
      edges: [{ id: "e1", source: "start", source_port: "next", target: "end" }],
    };
    const canvas = flowToCanvas(flow);
    expect(canvasToFlow(canvas.meta, canvas.nodes, canvas.edges)).toEqual(flow);
    const end = canvas.nodes[1]!;
    const moved = { ...end, position: { x: 300, y: 10 }, data: { ...end.data, placed: true } };
    expect(fromCanvasNode(moved)).toEqual({ id: "end", type: "end", params: { status: "done" }, position: { x: 300, y: 10 } });
  });

  it("keeps unknown fields of nodes and edges", () => {
    const flow = {
      format: "procedo.flow/1",
      key: "k",
      name: "n",
      subject_type: "invoice",
      nodes: [{ id: "a", type: "start", future: 1, position: { x: 1.5, y: 2 } }],
      edges: [{ id: "e", source: "a", source_port: "next", target: "a", note: "x" }],
    } as unknown as Flow;
    const canvas = flowToCanvas(flow);
    expect(JSON.stringify(canvasToFlow(canvas.meta, canvas.nodes, canvas.edges))).toBe(JSON.stringify(flow));
  });
});
