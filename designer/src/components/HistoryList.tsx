// A list of history entries in words; the code shows on hover (title).
import { useT } from "../i18n";
import { describeHistory, type HistoryEntry, type Namers } from "../history/describe";

export function HistoryList({ entries, nodeLabel, namers }: { entries: HistoryEntry[]; nodeLabel: (id: string) => string; namers?: Namers }) {
  const { lang } = useT();
  return (
    <ul className="history-list" data-testid="history">
      {entries.map((h) => {
        const d = describeHistory(h, lang, nodeLabel, namers);
        return (
          <li key={`${h.instance_id ?? ""}${h.seq}`} title={d.code} data-kind={h.kind}>
            <div>{d.text}</div>
            <div className="muted small-text">{new Date(h.at).toLocaleString(lang)}{h.reason ? ` · “${h.reason}”` : ""}</div>
          </li>
        );
      })}
    </ul>
  );
}
