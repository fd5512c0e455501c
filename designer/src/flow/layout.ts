// Auto-layout with elkjs (layered, left to right), sized from the rendered nodes.
import type { CanvasEdge, CanvasNode } from "./mapping";

// elkjs is large: loaded on the first auto-layout only.
import type ELKType from "elkjs/lib/elk.bundled.js";
let elk: Promise<InstanceType<typeof ELKType>> | null = null;
function getElk(): Promise<InstanceType<typeof ELKType>> {
  if (!elk) elk = import("elkjs/lib/elk.bundled.js").then((m) => new m.default());
  return elk;
}

export async function autoLayout(nodes: CanvasNode[], edges: CanvasEdge[]): Promise<Map<string, { x: number; y: number }>> {
  const graph = {
    id: "root",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "RIGHT",
      "elk.layered.spacing.nodeNodeBetweenLayers": "90",
      "elk.spacing.nodeNode": "40",
      "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF",
      "elk.edgeRouting": "SPLINES",
    },
    children: nodes.map((n) => ({
      id: n.id,
      width: n.measured?.width ?? 220,
      height: n.measured?.height ?? 80,
    })),
    edges: edges
      .filter((e) => nodes.some((n) => n.id === e.source) && nodes.some((n) => n.id === e.target))
      .map((e) => ({ id: e.id, sources: [e.source], targets: [e.target] })),
  };
  const result = await (await getElk()).layout(graph);
  const out = new Map<string, { x: number; y: number }>();
  for (const child of result.children ?? []) out.set(child.id, { x: Math.round(child.x ?? 0), y: Math.round(child.y ?? 0) });
  return out;
}
