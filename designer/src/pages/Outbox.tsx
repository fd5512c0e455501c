// The outbox: every email and letter Procedo sent or will send, filtered, paged, each one readable.
import { useCallback, useEffect, useState } from "react";
import { api, ApiError } from "../api";
import { useFlowTitles } from "../flowLabels";
import { useT, type TextKey } from "../i18n";
import { navigate } from "../router";
import type { OutboxItem, OutboxMessage, OutboxState } from "../types";
import { useUser } from "../user";
import { when } from "../util";
import { PrintBatches } from "../operations/PrintBatches";

const PAGE = 50;
const STATES: { value: OutboxState | ""; text: TextKey }[] = [
  { value: "", text: "opsAll" },
  { value: "queued", text: "opsQueued" },
  { value: "sent", text: "opsSent" },
  { value: "failed", text: "opsFailed" },
  { value: "ready", text: "opsReady" },
];
const STATE_TEXT: Record<string, TextKey> = { queued: "opsQueued", sent: "opsSent", failed: "opsFailed", ready: "opsReady" };
// A message from the library says "(template name)" until it is rendered (sent or printed).
const PENDING = /^\(template ([a-z][a-z0-9_-]*)\)$/;
const fromTemplate = (subject: string): string | undefined => PENDING.exec(subject)?.[1];

const KIND_TEXT: Record<string, TextKey> = { email: "opsEmail", letter: "opsLetter", sms: "smsChannel" };
const STATE_BADGE: Record<string, string> = { queued: "draft", sent: "ok", failed: "bad", ready: "" };

function link(e: React.MouseEvent, to: string) {
  e.preventDefault();
  e.stopPropagation();
  navigate(to);
}

export function OutboxPage() {
  const { t, lang } = useT();
  const flowName = useFlowTitles();
  const [status, setStatus] = useState<OutboxState | "">("");
  const [kind, setKind] = useState("");
  const [search, setSearch] = useState("");
  const [query, setQuery] = useState("");
  const [page, setPage] = useState(0);
  const [rows, setRows] = useState<OutboxItem[] | null>(null);
  const [more, setMore] = useState(false);
  const [error, setError] = useState("");
  const [open, setOpen] = useState<string | null>(null);

  // The search asks the server a moment after typing stops, not on every key.
  useEffect(() => {
    const timer = setTimeout(() => { setQuery(search.trim()); setPage(0); }, 300);
    return () => clearTimeout(timer);
  }, [search]);

  const load = useCallback(() => {
    const params: Record<string, string> = { limit: String(PAGE + 1), offset: String(page * PAGE) };
    if (status) params.status = status;
    if (kind) params.kind = kind;
    if (query) params.q = query;
    api.outbox(params).then(
      (list) => { setRows(list.slice(0, PAGE)); setMore(list.length > PAGE); setError(""); },
      (e) => setError(e instanceof ApiError ? e.detail : String(e)),
    );
  }, [status, kind, query, page]);
  useEffect(load, [load]);

  return (
    <div className="page ops-page" data-testid="outbox-page">
      <div className="page-head"><h1>{t("opsOutboxTitle")}</h1></div>
      <p className="muted ops-help">{t("opsOutboxHelp")}</p>
      <PrintBatches onChange={load} />
      <div className="ops-filters">
        <div className="seg" role="group" aria-label={t("status")}>
          {STATES.map((s) => (
            <button key={s.value} className={status === s.value ? "on" : ""} aria-pressed={status === s.value} data-status={s.value || "all"} onClick={() => { setStatus(s.value); setPage(0); }}>
              {t(s.text)}
            </button>
          ))}
        </div>
        <select value={kind} onChange={(e) => { setKind(e.target.value); setPage(0); }} aria-label={t("opsKind")}>
          <option value="">{t("opsAllKinds")}</option>
          <option value="email">{t("opsEmail")}</option>
          <option value="letter">{t("opsLetter")}</option>
          <option value="sms">{t("smsChannel")}</option>
        </select>
        <input type="search" className="ops-search" value={search} maxLength={200} placeholder={t("opsSearchOutbox")} onChange={(e) => setSearch(e.target.value)} />
      </div>
      {error && <div className="error-box" role="alert">{error}</div>}
      {rows === null ? (
        <div className="muted">{t("loading")}</div>
      ) : rows.length === 0 ? (
        <div className="card muted">{t("opsNoMessages")}</div>
      ) : (
        <table className="table outbox-table">
          <thead>
            <tr><th>{t("opsWhen")}</th><th>{t("opsKind")}</th><th>{t("opsTo")}</th><th>{t("opsSubjectLine")}</th><th>{t("status")}</th><th>{t("opsFrom")}</th></tr>
          </thead>
          <tbody>
            {rows.map((m) => (
              <tr key={m.id} data-message={m.id} className="ops-clickable" onClick={() => setOpen(m.id)}>
                <td className="ops-nowrap">{when(m.created_at, lang)}</td>
                <td>{t(KIND_TEXT[m.kind] ?? "opsEmail")}</td>
                <td data-i18n-skip={m.recipients.length ? "" : undefined}>{m.recipients.length ? m.recipients.join(", ") : <span className="muted">{t("opsNoRecipient")}</span>}</td>
                <td>
                  <a href="#" onClick={(e) => { e.preventDefault(); setOpen(m.id); }} data-i18n-skip={fromTemplate(m.subject) ? undefined : ""}>{fromTemplate(m.subject) ? <span className="muted">{t("opsFromTemplate", { name: fromTemplate(m.subject) ?? "" })}</span> : m.subject}</a>
                </td>
                <td><StateCell m={m} /></td>
                <td><Origin m={m} flowName={flowName} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {(page > 0 || more) && (
        <div className="ops-pager">
          <button className="small" disabled={page === 0} onClick={() => setPage(page - 1)}>{t("opsPrevious")}</button>
          <span className="muted">{t("opsPage", { n: page + 1 })}</span>
          <button className="small" disabled={!more} onClick={() => setPage(page + 1)}>{t("opsNext")}</button>
        </div>
      )}
      {open && <MessageDialog id={open} onClose={() => setOpen(null)} onChanged={load} flowName={flowName} />}
    </div>
  );
}

function StateCell({ m, withError = true }: { m: OutboxItem; withError?: boolean }) {
  const { t, lang } = useT();
  // A letter that went out was printed; an email was sent.
  const label: TextKey = m.kind === "letter" && m.status === "sent" ? "opsPrinted" : (STATE_TEXT[m.status] ?? "opsQueued");
  return (
    <div>
      <span className={`badge ${STATE_BADGE[m.status] ?? ""}`} data-testid="message-status">{t(label)}</span>
      {m.status === "sent" && m.sent_at && <div className="muted small-text">{t("opsSentAt", { when: when(m.sent_at, lang) })}</div>}
      {m.status === "queued" && m.last_error && (
        <div className="small-text ops-warn">{t("opsRetrying", { n: m.attempts, when: when(m.next_attempt_at, lang) })}</div>
      )}
      {withError && m.status === "failed" && m.last_error && <div className="small-text ops-error-line" title={m.last_error} data-i18n-skip>{m.last_error}</div>}
    </div>
  );
}

/** Where a message came from: its flow (by its name in the UI language) and subject. */
function Origin({ m, flowName }: { m: OutboxItem; flowName: (key: string, name: string) => string }) {
  const { t } = useT();
  if (!m.instance_id) return <span className="muted">{t("opsByHand")}</span>;
  return (
    <div>
      {m.flow && <a data-i18n-skip href={`/running/${m.flow}`} onClick={(e) => link(e, `/running/${encodeURIComponent(m.flow!)}`)}>{flowName(m.flow, m.flow_name ?? m.flow)}</a>}
      {m.subject_id && (
        <div className="small-text">
          <a data-i18n-skip href={`/subjects/${m.subject_id}`} data-testid="subject-link" onClick={(e) => link(e, `/subjects/${m.subject_id}`)}>{m.subject_key}</a>
        </div>
      )}
    </div>
  );
}

function MessageDialog({ id, onClose, onChanged, flowName }: { id: string; onClose: () => void; onChanged: () => void; flowName: (key: string, name: string) => string }) {
  const { t, lang } = useT();
  const user = useUser();
  const [message, setMessage] = useState<OutboxMessage | null>(null);
  const [plain, setPlain] = useState(false);
  const [error, setError] = useState("");
  const [note, setNote] = useState("");

  useEffect(() => {
    api.outboxMessage(id).then(setMessage, (e) => setError(e instanceof ApiError ? e.detail : String(e)));
  }, [id]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => { if (e.key === "Escape") onClose(); };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);

  async function resend() {
    setError("");
    try {
      setMessage(await api.resend(id));
      setNote(t("opsResent"));
      onChanged();
    } catch (e) {
      setError(e instanceof ApiError ? e.detail : String(e));
    }
  }

  return (
    <div className="modal-backdrop" onMouseDown={(e) => { if (e.target === e.currentTarget) onClose(); }}>
      <div className="modal ops-message" role="dialog" aria-modal="true" data-testid="outbox-message">
        <div className="overlay-head">
          <span>{message?.kind === "letter" ? t("opsLetter") : message?.kind === "sms" ? t("smsChannel") : t("opsMessage")}</span>
          <button className="ghost small" onClick={onClose} aria-label={t("close")}>×</button>
        </div>
        {error && <div className="error-box" role="alert">{error}</div>}
        {note && <div className="ops-result ok" role="status">{note}</div>}
        {!message ? (
          <div className="muted">{t("loading")}</div>
        ) : (
          <>
            <table className="fields-table">
              <tbody>
                <tr><td>{t("opsSubjectLine")}</td><td><strong data-i18n-skip data-testid="message-subject">{message.subject}</strong></td></tr>
                <tr><td>{t("opsTo")}</td><td data-i18n-skip={message.recipients.length ? "" : undefined}>{message.recipients.join(", ") || t("opsNoRecipient")}</td></tr>
                <tr><td>{t("status")}</td><td><StateCell m={message} withError={false} /></td></tr>
                <tr><td>{t("opsWhen")}</td><td>{when(message.created_at, lang)}</td></tr>
                <tr><td>{t("opsAttempts")}</td><td>{message.attempts}</td></tr>
                {message.template && <tr><td>{t("opsTemplate")}</td><td><code>{message.template}</code></td></tr>}
                {message.instance_id && <tr><td>{t("opsFrom")}</td><td><Origin m={message} flowName={flowName} /></td></tr>}
                {message.last_error && <tr><td>{t("opsError")}</td><td><code className="ops-error-text">{message.last_error}</code></td></tr>}
              </tbody>
            </table>
            {message.kind === "letter" && (
              <p><a href={`/api/v1/letters/${message.id}/pdf`} target="_blank" rel="noopener" data-testid="letter-pdf">{t("opsLetterPdf")}</a></p>
            )}
            {message.status === "failed" && (message.kind === "email" || message.kind === "sms") && user?.access === "admin" && (
              <div className="ops-resend">
                <button className="primary" onClick={resend}>{t("opsResend")}</button>
                <span className="muted small-text">{t("opsResendHelp")}</span>
              </div>
            )}
            <div className="seg" role="group">
              <button className={plain ? "" : "on"} onClick={() => setPlain(false)}>{t("opsFormatted")}</button>
              <button className={plain ? "on" : ""} onClick={() => setPlain(true)}>{t("opsPlainText")}</button>
            </div>
            {plain ? (
              <pre className="ops-body-text" data-testid="message-text">{message.text}</pre>
            ) : (
              // The body as HTML, in a frame that runs no script and loads nothing from elsewhere.
              <iframe className="ops-body" title={t("opsMessage")} sandbox="" srcDoc={message.body} data-testid="message-body" />
            )}
          </>
        )}
      </div>
    </div>
  );
}
