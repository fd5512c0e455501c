import type { Flow } from "../types";

/** The flow document in an API answer: a version's, a flow's draft, or the document itself. */
export function docOf(data: unknown): Flow {
  const obj = data as Record<string, unknown>;
  if (obj && Array.isArray(obj.nodes)) return obj as unknown as Flow;
  for (const k of ["document", "flow", "draft"]) {
    const inner = obj?.[k] as Record<string, unknown> | undefined;
    if (inner && Array.isArray(inner.nodes)) return inner as unknown as Flow;
  }
  throw new Error("the server sent no flow document");
}
