// A list of history entries in words; the code shows on hover (title).
import { useT } from "../i18n";
import { describeHistory, type HistoryEntry } from "../history/describe";

export function HistoryList({ entries, nodeLabel }: { entries: HistoryEntry[]; nodeLabel: (id: string) => string }) {
  const { lang } = useT();
  return (
    <ul className="history-list" data-testid="history">
      {entries.map((h) => {
        const d = describeHistory(h, lang, nodeLabel);
        return (
          <li key={`${h.instance_id ?? ""}${h.seq}`} title={d.code}>
            <div>{d.text}</div>
            <div className="muted small-text">{new Date(h.at).toLocaleString(lang)}{h.reason ? ` · “${h.reason}”` : ""}</div>
          </li>
        );
      })}
    </ul>
  );
}
