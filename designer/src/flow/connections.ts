// Which connections the canvas accepts while the user drags (isValidConnection).
// The server's validation says the same things on save; refusing them while
// dragging keeps the user from drawing what can never be valid.
import type { FlowEdge, FlowNode, NodeTypeInfo } from "../types";
import { portsFor, type PortsByNode } from "./ports";

export interface ConnectionAttempt {
  source: string | null;
  sourceHandle?: string | null;
  target: string | null;
}

/** Why a connection is refused, or null when it is fine. */
export function connectionProblem(
  attempt: ConnectionAttempt,
  nodes: FlowNode[],
  edges: FlowEdge[],
  catalogue: Map<string, NodeTypeInfo>,
  known?: PortsByNode,
): string | null {
  const { source, target } = attempt;
  if (!source || !target) return "connect an output port to a node";
  if (source === target) return "a node cannot lead to itself";
  const from = nodes.find((n) => n.id === source);
  const to = nodes.find((n) => n.id === target);
  if (!from || !to) return "both nodes must exist";
  if (to.type === "start") return "nothing may lead into the start node";
  const port = attempt.sourceHandle ?? null;
  const ports = portsFor(catalogue.get(from.type), from, known?.get(from.id));
  if (!port || !ports.some((p) => p.name === port)) return `'${from.id}' has no output port '${port}'`;
  const toInfo = catalogue.get(to.type);
  if (toInfo?.input_ports && toInfo.input_ports.length > 0 && !toInfo.input_ports.includes(port)) {
    return `'${to.type}' can only follow ${toInfo.input_ports.join(", ")} ports`;
  }
  if (edges.some((e) => e.source === source && e.source_port === port && e.target === target)) {
    return "these nodes are already connected by this port";
  }
  return null;
}
