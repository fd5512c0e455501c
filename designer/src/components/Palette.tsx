import { useMemo, useState } from "react";
import { pick, useT, type TextKey } from "../i18n";
import type { NodeTypeInfo } from "../types";
import { CATEGORY_COLORS } from "./NodeView";
import { CategoryIcon } from "./Icon";

const ORDER = ["flow", "logic", "people", "time", "messages", "data"];
const CATEGORY_NAMES: Record<string, TextKey> = {
  flow: "catFlow",
  logic: "catLogic",
  people: "catPeople",
  time: "catTime",
  messages: "catMessages",
  data: "catData",
};

export function Palette({ catalogue, onAdd }: { catalogue: Map<string, NodeTypeInfo>; onAdd: (type: string) => void }) {
  const { t, lang } = useT();
  const [query, setQuery] = useState("");
  const groups = useMemo(() => {
    const q = query.trim().toLowerCase();
    const byCat = new Map<string, NodeTypeInfo[]>();
    for (const info of catalogue.values()) {
      const text = `${info.type} ${pick(info.labels, lang)} ${pick(info.description, lang)}`.toLowerCase();
      if (q && !text.includes(q)) continue;
      const list = byCat.get(info.category) ?? [];
      list.push(info);
      byCat.set(info.category, list);
    }
    return [...byCat.entries()].sort(([a], [b]) => (ORDER.indexOf(a) + 99) % 99 - (ORDER.indexOf(b) + 99) % 99);
  }, [catalogue, query, lang]);
  return (
    <aside className="palette" data-testid="palette">
      <div className="palette-head">{t("palette")}</div>
      <input className="palette-search" placeholder={t("search")} value={query} onChange={(e) => setQuery(e.target.value)} />
      <div className="palette-list">
        {groups.map(([category, items]) => (
          <div key={category} className="palette-group">
            <div className="palette-cat">{CATEGORY_NAMES[category] ? t(CATEGORY_NAMES[category]!) : category}</div>
            {items.map((info) => (
              <div
                key={info.type}
                className="palette-item"
                draggable
                data-type={info.type}
                title={pick(info.description, lang)}
                style={{ "--accent": CATEGORY_COLORS[category] ?? "#475569" } as React.CSSProperties}
                onDragStart={(e) => {
                  e.dataTransfer.setData("application/procedo-node-type", info.type);
                  e.dataTransfer.effectAllowed = "move";
                }}
                onDoubleClick={() => onAdd(info.type)}
              >
                <span className="pi-icon"><CategoryIcon category={category} /></span>
                <span className="pi-label">{pick(info.labels, lang)}</span>
              </div>
            ))}
          </div>
        ))}
      </div>
    </aside>
  );
}
