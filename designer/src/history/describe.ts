// History entries in words, in the reader's language (issue 13): who did what, with the
// node's label; the event code stays available for support (shown on hover).
import type { Lang } from "../types";

/** One row of GET /instances/{id}/history or of a subject's timeline. */
export interface HistoryEntry {
  seq: number;
  at: string;
  actor: string;
  kind: string;
  instance_id?: string | null;
  node: string | null;
  to_node: string | null;
  port: string | null;
  reason: string | null;
  data: Record<string, unknown>;
}

export interface Described {
  /** the sentence a person reads */
  text: string;
  /** the technical form (event code, node ids), for support */
  code: string;
}

/** Placeholder until the history helper lands: the technical form only. */
export function describeHistory(entry: HistoryEntry, _lang: Lang, nodeLabel: (id: string) => string): Described {
  const code = [entry.kind, entry.node, entry.port, entry.to_node].filter(Boolean).join(" ");
  const text = [entry.kind, entry.node && nodeLabel(entry.node), entry.to_node && nodeLabel(entry.to_node)].filter(Boolean).join(" ");
  return { text, code };
}
