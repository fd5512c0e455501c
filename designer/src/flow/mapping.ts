// The canvas <-> flow JSON mapping. Pure functions: flow -> canvas -> flow gives
// back the same JSON (field order included), so opening and saving a flow
// without changes never produces a diff.
import type { Edge, Node } from "@xyflow/react";
import type { Flow, FlowEdge, FlowNode } from "../types";

export interface ProcedoNodeData extends Record<string, unknown> {
  /** the flow node as stored, without its position (unknown fields kept) */
  node: FlowNode;
  /** whether the node had (or has since been given) a position in the flow file */
  placed: boolean;
}

export interface ProcedoEdgeData extends Record<string, unknown> {
  edge: FlowEdge;
}

export type CanvasNode = Node<ProcedoNodeData, "procedo">;
export type CanvasEdge = Edge<ProcedoEdgeData>;

export interface Canvas {
  /** the flow without nodes and edges content (they are rebuilt from the canvas) */
  meta: Flow;
  nodes: CanvasNode[];
  edges: CanvasEdge[];
}

const GRID_X = 250;
const GRID_Y = 150;

function withoutPosition(node: FlowNode): FlowNode {
  const copy: FlowNode = { ...node };
  delete copy.position;
  return copy;
}

export function toCanvasNode(node: FlowNode, position: { x: number; y: number }, placed: boolean): CanvasNode {
  return {
    id: node.id,
    type: "procedo",
    position: { x: position.x, y: position.y },
    data: { node: withoutPosition(node), placed },
  };
}

export function toCanvasEdge(edge: FlowEdge): CanvasEdge {
  return {
    id: edge.id,
    source: edge.source,
    target: edge.target,
    sourceHandle: edge.source_port,
    data: { edge: { ...edge } },
  };
}

/** A flow document as canvas nodes and edges; unplaced nodes get a spot below the others. */
export function flowToCanvas(flow: Flow): Canvas {
  const nodes = Array.isArray(flow.nodes) ? flow.nodes : [];
  const edges = Array.isArray(flow.edges) ? flow.edges : [];
  let maxY = -GRID_Y;
  for (const n of nodes) if (n.position) maxY = Math.max(maxY, n.position.y);
  let free = 0;
  const canvasNodes = nodes.map((n) => {
    if (n.position && typeof n.position.x === "number" && typeof n.position.y === "number") {
      return toCanvasNode(n, n.position, true);
    }
    const spot = { x: (free % 6) * GRID_X, y: maxY + GRID_Y * (1 + Math.floor(free / 6)) };
    free += 1;
    return toCanvasNode(n, spot, false);
  });
  return { meta: flow, nodes: canvasNodes, edges: edges.map(toCanvasEdge) };
}

export function fromCanvasNode(n: CanvasNode): FlowNode {
  const node = n.data.node;
  const hadPosition = "position" in node;
  if (!n.data.placed) {
    return { ...node };
  }
  const position = { x: n.position.x, y: n.position.y };
  // Keep the original key order; a node that gains a position gets it last (as canonical JSON has it).
  return hadPosition ? { ...node, position } : { ...node, position };
}

export function fromCanvasEdge(e: CanvasEdge): FlowEdge {
  const base = e.data?.edge ?? ({} as FlowEdge);
  return {
    ...base,
    id: e.id,
    source: e.source,
    source_port: e.sourceHandle ?? base.source_port ?? "next",
    target: e.target,
  };
}

/** The flow document the canvas shows. */
export function canvasToFlow(meta: Flow, nodes: CanvasNode[], edges: CanvasEdge[]): Flow {
  const flow: Flow = { ...meta, nodes: nodes.map(fromCanvasNode), edges: edges.map(fromCanvasEdge) };
  if (!("nodes" in meta)) flow.nodes = nodes.map(fromCanvasNode);
  return flow;
}

/** A fresh id: `base`, or `base_2`, `base_3`, ... when taken. */
export function freshId(base: string, taken: Set<string>): string {
  const clean = base.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 56) || "node";
  if (!taken.has(clean)) return clean;
  for (let i = 2; ; i += 1) {
    const id = `${clean}_${i}`;
    if (!taken.has(id)) return id;
  }
}

export function edgeId(source: string, port: string, target: string, taken: Set<string>): string {
  return freshId(`${source}-${port}-${target}`.slice(0, 60), taken);
}
