// A flow's name in the UI language (D6): its `labels`, else its one `name`. Pages that list
// flows by key (schedules, approvals) look the labels up in the flow list once.
import { useCallback, useEffect, useState } from "react";
import { api } from "./api";
import { useT } from "./i18n";
import type { FlowLabels, Lang } from "./types";

export function flowTitle(flow: { name?: string; labels?: FlowLabels | null } | null | undefined, lang: Lang, fallback = ""): string {
  return flow?.labels?.[lang] || flow?.name || fallback;
}

export function useFlowTitles(): (key: string, name: string) => string {
  const { lang } = useT();
  const [labels, setLabels] = useState<Record<string, FlowLabels>>({});
  useEffect(() => {
    let live = true;
    api
      .flows()
      .then((list) => {
        if (live) setLabels(Object.fromEntries(list.flatMap((f) => (f.labels ? [[f.key, f.labels]] : []))));
      })
      .catch(() => undefined); // without the list, names stay as the flows are named
    return () => {
      live = false;
    };
  }, []);
  return useCallback((key: string, name: string) => labels[key]?.[lang] || name, [labels, lang]);
}
