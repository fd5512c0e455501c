// Pieces the instances list and the running view share: a status in words, a failed
// instance's error with what to do, and the cancel dialog (a reason is required).
import { useState } from "react";
import { useT, type TextKey } from "../i18n";
import { explainError } from "./logic";

export function statusText(t: (key: TextKey) => string, status: string): string {
  const key = `wStatus_${status}` as TextKey;
  return ["pending", "running", "failed", "cancelled", "completed"].includes(status) ? t(key) : status;
}

/** A failed instance's error in words, what to do about it, and the technical form. */
export function FailureBox({ error, failedNode, nodeLabel }: { error?: string | null; failedNode?: string | null; nodeLabel: (id: string) => string }) {
  const { t, lang } = useT();
  const why = explainError(error, failedNode, nodeLabel, lang);
  if (!why) return null;
  return (
    <div className="error-box work-failure" data-testid="failure" role="note">
      <strong>{t("wWhatFailed")}</strong>
      <div data-testid="failure-text">{why.text}</div>
      <div className="small-text">{t("wFixHint")}</div>
      <details className="small-text"><summary>{t("wTechnical")}</summary><code>{why.code}</code></details>
    </div>
  );
}

export function CancelDialog({ count, onCancel, onDone }: { count: number; onCancel: () => void; onDone: (reason: string) => Promise<void> }) {
  const { t } = useT();
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  return (
    <div className="modal-backdrop">
      <form
        className="modal"
        data-testid="cancel-dialog"
        onSubmit={(e) => {
          e.preventDefault();
          if (!reason.trim()) return;
          setBusy(true);
          void onDone(reason.trim()).finally(() => setBusy(false));
        }}
      >
        <h2>{t("wCancelTitle", { n: count })}</h2>
        <p className="muted">{t("wCancelHelp")}</p>
        <label>{t("wReasonRequired")}<input name="reason" autoFocus required maxLength={2000} value={reason} onChange={(e) => setReason(e.target.value)} /></label>
        <div className="modal-actions">
          <button type="button" onClick={onCancel}>{t("wKeep")}</button>
          <button type="submit" className="primary danger-fill" disabled={!reason.trim() || busy}>{t("wCancelDo")}</button>
        </div>
      </form>
    </div>
  );
}
