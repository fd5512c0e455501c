// Accept (perhaps adjusted) or decline a payment arrangement in review (M5): on the subject
// page's portal card and on the review task in the inbox.
import { useState } from "react";
import { ApiError } from "../api";
import { useT } from "../i18n";
import type { Arrangement } from "./api";
import { acceptArrangement, adjustmentOf, declineArrangement } from "./decisions";

export function ArrangementDecision({ arrangement, onDecided }: { arrangement: Arrangement; onDecided: (decided: Arrangement, message: string) => void }) {
  const { t } = useT();
  const [instalments, setInstalments] = useState(String(arrangement.instalments.length));
  const [firstDate, setFirstDate] = useState(arrangement.instalments[0]?.due_date ?? "");
  const [reason, setReason] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const adjusted = Object.keys(adjustmentOf(arrangement, instalments, firstDate)).length > 0;

  async function decide(accept: boolean) {
    setError("");
    if (!accept && !reason.trim()) {
      setError(t("arReasonNeeded"));
      return;
    }
    setBusy(true);
    try {
      const decided = accept
        ? await acceptArrangement(arrangement.id, adjustmentOf(arrangement, instalments, firstDate))
        : await declineArrangement(arrangement.id, reason);
      onDecided(decided, t(accept ? "arAccepted" : "arDeclined"));
    } catch (e) {
      setError(e instanceof ApiError ? e.detail : String(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="arrangement-decision" data-testid="arrangement-decision">
      <h4>{t("arDecideTitle")}</h4>
      <div className="muted small-text">{t("arAdjustHelp")}</div>
      <div style={{ display: "flex", gap: 12, flexWrap: "wrap", alignItems: "flex-end", marginTop: 8 }}>
        <label style={{ display: "flex", flexDirection: "column", gap: 4 }}>
          {t("arInstalments")}
          <input type="number" min={2} max={60} value={instalments} onChange={(e) => setInstalments(e.target.value)} data-testid="decision-instalments" />
        </label>
        <label style={{ display: "flex", flexDirection: "column", gap: 4 }}>
          {t("arFirstDate")}
          <input type="date" value={firstDate} onChange={(e) => setFirstDate(e.target.value)} data-testid="decision-first-date" />
        </label>
        <button className="primary" disabled={busy} onClick={() => void decide(true)} data-testid="decision-accept">
          {t(adjusted ? "arAcceptAdjusted" : "arAccept")}
        </button>
      </div>
      <div style={{ display: "flex", gap: 12, flexWrap: "wrap", alignItems: "flex-end", marginTop: 8 }}>
        <label style={{ display: "flex", flexDirection: "column", gap: 4, flex: 1, minWidth: 240 }}>
          {t("arReason")}
          <textarea rows={2} maxLength={1000} value={reason} onChange={(e) => setReason(e.target.value)} data-testid="decision-reason" />
        </label>
        <button className="danger" disabled={busy} onClick={() => void decide(false)} data-testid="decision-decline">
          {t("arDecline")}
        </button>
      </div>
      {error && <div className="error-box" role="alert" data-testid="decision-error">{error}</div>}
    </div>
  );
}
