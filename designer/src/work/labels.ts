// Node labels of published flow versions, read once per version (versions never change).
import { useCallback, useEffect, useState } from "react";
import { api } from "../api";
import { docOf } from "../flow/document";

const cache = new Map<string, Record<string, string>>();
const loading = new Map<string, Promise<void>>();

function load(flow: string, version: number): Promise<void> {
  const key = `${flow}@${version}`;
  if (!loading.has(key)) {
    loading.set(
      key,
      api.version(flow, version).then(
        (raw) => {
          const doc = docOf(raw);
          cache.set(key, Object.fromEntries(doc.nodes.map((n) => [n.id, n.label || n.id])));
        },
        () => { cache.set(key, {}); },
      ),
    );
  }
  return loading.get(key)!;
}

/** label(flow, version, node id): the node's label once its version is read, else its id. */
export function useNodeLabels(wanted: { flow: string; version: number }[]) {
  const [, setRead] = useState(0);
  const keys = [...new Set(wanted.map((w) => `${w.flow}@${w.version}`))].sort().join("|");
  useEffect(() => {
    for (const w of keys ? keys.split("|") : []) {
      const at = w.lastIndexOf("@");
      void load(w.slice(0, at), Number(w.slice(at + 1))).then(() => setRead((n) => n + 1));
    }
  }, [keys]);
  return useCallback((flow: string, version: number, node: string) => cache.get(`${flow}@${version}`)?.[node] ?? node, []);
}
