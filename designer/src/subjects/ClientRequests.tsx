// What the office asked a client for and what came back; returns awaiting the client's approval (K3, K4).
import { useEffect, useMemo, useState } from "react";
import { ApiError } from "../api";
import { useT, type TextKey } from "../i18n";
import { clientRequests, fileUrl, type ClientRequest } from "../clientrequests/api";
import { AskClientButton } from "../clientrequests/AskClient";
import { formatValue } from "./columns";

const STATUS: Record<ClientRequest["status"], TextKey> = {
  open: "crStatusOpen",
  complete: "crStatusComplete",
  overdue: "crStatusOverdue",
  approved: "crStatusApproved",
  declined: "crStatusDeclined",
  informed: "crStatusInformed",
};
const MODE: Record<string, TextKey> = {
  automatic: "crModeAutomatic",
  approval: "crModeApproval",
  signature: "crModeSignature",
  information: "crModeInformation",
};

function useWhen() {
  const { t, lang } = useT();
  return useMemo(() => {
    const words = { yes: t("subjYes"), no: t("subjNo") };
    return (value: string) => formatValue(value, "datetime", lang, words);
  }, [t, lang]);
}

export function ClientRequestsCard({ subjectId }: { subjectId: string }) {
  const { t } = useT();
  const [found, setFound] = useState<ClientRequest[] | null>(null);
  const [error, setError] = useState("");
  const [asked, setAsked] = useState(0);

  useEffect(() => {
    let live = true;
    clientRequests(subjectId).then(
      (rows) => live && setFound(rows),
      (e) => {
        // Not a client: nothing is asked of this subject, so the card stays away.
        if (e instanceof ApiError && e.status === 404) live && setFound(null);
        else live && setError(e instanceof Error ? e.message : String(e));
      },
    );
    return () => { live = false; };
  }, [subjectId, asked]);

  if (error) {
    return (
      <section className="card" data-testid="client-requests">
        <h3>{t("crTitle")}</h3>
        <div className="error-box" role="alert">{error}</div>
      </section>
    );
  }
  if (!found) return null;
  const open = found.filter((r) => r.status === "open");
  const finished = found.filter((r) => r.status !== "open");
  return (
    <section className="card" data-testid="client-requests">
      <h3>{t("crTitle")}</h3>
      <AskClientButton subjectId={subjectId} onAsked={() => setAsked((n) => n + 1)} />
      <h4>{t("crOpen")}</h4>
      {open.length === 0 ? <div className="muted">{t("crNoneOpen")}</div> : open.map((r) => <RequestView key={r.id} request={r} subjectId={subjectId} />)}
      {finished.length > 0 && (
        <>
          <h4>{t("crFinished")}</h4>
          {finished.map((r) => <RequestView key={r.id} request={r} subjectId={subjectId} />)}
        </>
      )}
    </section>
  );
}

function RequestView({ request, subjectId }: { request: ClientRequest; subjectId: string }) {
  const { t } = useT();
  const when = useWhen();
  const r = request;
  return (
    <div className="client-request" data-testid="client-request" data-status={r.status} data-kind={r.kind}>
      <div>
        <strong>{r.title}</strong>{" "}
        <span className={`badge ${r.status}`}>{t(STATUS[r.status])}</span>
        {r.instance_id === null && <span className="muted small-text"> · {t("ahAdhoc")}</span>}
      </div>
      <div className="muted small-text">
        {t("crAskedOf", { contact: r.contact_name ? `${r.contact_name} <${r.contact_email}>` : r.contact_email || "—", date: when(r.created_at) })}
        {r.deadline_at && <> · {t("crDeadline", { date: when(r.deadline_at) })}</>}
        {r.reminders > 0 && <> · {t("crReminders", { count: r.reminders })}</>}
      </div>
      {r.kind === "documents" ? (
        <ul>
          {r.items.map((item) => {
            const files = r.files.filter((f) => f.item_id === item.id);
            const answer = r.answers[item.id];
            return (
              <li key={item.id} data-testid="client-request-item">
                {item.label} <span className="muted">({item.mandatory ? t("crMandatory") : t("crOptional")})</span>
                {item.kind === "field" && (answer ? <>: <q data-testid="client-request-answer">{answer.value}</q></> : <span className="muted"> — {t("crNotYet")}</span>)}
                {item.kind === "document" && files.length === 0 && <span className="muted"> — {t("crNotYet")}</span>}
                {files.map((f) => (
                  <div key={f.id} className="small-text">
                    <a href={fileUrl(subjectId, f.id)} download={f.filename} data-testid="client-request-file">{t("crDownload", { name: f.filename })}</a>{" "}
                    <span className="muted">{t("crReceivedOn", { date: when(f.uploaded_at), size: Math.max(1, Math.round(f.size / 1024)) })}</span>
                  </div>
                ))}
              </li>
            );
          })}
        </ul>
      ) : (
        <div className="small-text">
          <div>{t("crFiling", { mode: MODE[r.mode] ? t(MODE[r.mode]) : r.mode, role: r.on_behalf_of })}</div>
          {r.decided_at && (
            <div data-testid="client-request-decision">
              {t(r.status === "declined" ? "crDeclinedBy" : "crApprovedBy", { who: r.decided_by, date: when(r.decided_at) })}
              {r.reason && <> · {t("crReason", { reason: r.reason })}</>}
            </div>
          )}
          {r.submission.reference && (
            <div className="muted">{t("crSubmitted", { provider: r.submission.provider ?? "", reference: r.submission.reference })}</div>
          )}
        </div>
      )}
    </div>
  );
}
