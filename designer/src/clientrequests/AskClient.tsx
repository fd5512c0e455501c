// "Ask the client": staff ask a client for documents or data outside any flow (K3, ad hoc).
import { useState, type FormEvent } from "react";
import { ApiError } from "../api";
import { useT } from "../i18n";
import { askClient, type AskItem, type ClientRequest } from "./api";

const EMPTY: AskItem = { label: "", kind: "document", mandatory: true };

export function AskClientButton({ subjectId, onAsked }: { subjectId: string; onAsked: (made: ClientRequest) => void }) {
  const { t } = useT();
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" onClick={() => setOpen(true)} data-testid="ask-client">{t("ahAsk")}</button>
      {open && (
        <AskClientDialog
          subjectId={subjectId}
          onClose={() => setOpen(false)}
          onAsked={(made) => { setOpen(false); onAsked(made); }}
        />
      )}
    </>
  );
}

function AskClientDialog({ subjectId, onClose, onAsked }: { subjectId: string; onClose: () => void; onAsked: (made: ClientRequest) => void }) {
  const { t } = useT();
  const [title, setTitle] = useState("");
  const [items, setItems] = useState<AskItem[]>([{ ...EMPTY }]);
  const [message, setMessage] = useState("");
  const [due, setDue] = useState("");
  const [reminder, setReminder] = useState(7);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");

  function change(index: number, patch: Partial<AskItem>) {
    setItems((now) => now.map((item, i) => (i === index ? { ...item, ...patch } : item)));
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      const made = await askClient(subjectId, {
        title: title.trim(),
        items: items.filter((i) => i.label.trim()).map((i) => ({ ...i, label: i.label.trim() })),
        message,
        due_on: due || null,
        reminder_days: reminder,
      });
      onAsked(made);
    } catch (err) {
      setError(t("ahFailed", { detail: err instanceof ApiError ? err.detail : String(err) }));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="modal-backdrop" onClick={onClose}>
      <form className="modal" onClick={(e) => e.stopPropagation()} onSubmit={submit} data-testid="ask-client-dialog">
        <h2>{t("ahTitle")}</h2>
        <label>
          {t("ahSubject")}
          <input name="title" value={title} maxLength={200} required onChange={(e) => setTitle(e.target.value)} autoFocus />
        </label>
        <fieldset>
          <legend>{t("ahItems")}</legend>
          {items.map((item, index) => (
            <div key={index} className="ask-item" data-testid="ask-item">
              <label>
                {t("ahItemLabel", { n: index + 1 })}
                <input name={`item-${index}`} value={item.label} maxLength={200} required={index === 0} onChange={(e) => change(index, { label: e.target.value })} />
              </label>
              <select aria-label={t("ahItemKind", { n: index + 1 })} value={item.kind} onChange={(e) => change(index, { kind: e.target.value as AskItem["kind"] })}>
                <option value="document">{t("ahDocument")}</option>
                <option value="field">{t("ahField")}</option>
              </select>
              <label className="inline-check">
                <input type="checkbox" checked={item.mandatory} onChange={(e) => change(index, { mandatory: e.target.checked })} /> {t("ahMandatory")}
              </label>
              {items.length > 1 && (
                <button type="button" onClick={() => setItems((now) => now.filter((_, i) => i !== index))}>{t("ahRemoveItem")}</button>
              )}
            </div>
          ))}
          {items.length < 30 && <button type="button" onClick={() => setItems((now) => [...now, { ...EMPTY }])}>{t("ahAddItem")}</button>}
        </fieldset>
        <label>
          {t("ahMessage")}
          <textarea name="message" value={message} maxLength={5000} rows={4} onChange={(e) => setMessage(e.target.value)} />
        </label>
        <label>
          {t("ahDue")}
          <input name="due_on" type="date" value={due} onChange={(e) => setDue(e.target.value)} />
        </label>
        <label>
          {t("ahReminder")}
          <input name="reminder_days" type="number" min={0} max={60} value={reminder} onChange={(e) => setReminder(Number(e.target.value))} />
        </label>
        {error && <div className="error" role="alert">{error}</div>}
        <div className="modal-actions">
          <button type="button" onClick={onClose}>{t("cancel")}</button>
          <button type="submit" className="primary" disabled={busy}>{t("ahSend")}</button>
        </div>
      </form>
    </div>
  );
}
