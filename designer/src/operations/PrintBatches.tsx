// Letters to print: how many wait, one button to put them in a print batch, and the batches
// with their PDF (one merged document) and "printed", after which their letters count as sent.
import { useCallback, useEffect, useState } from "react";
import { api, ApiError } from "../api";
import { useT } from "../i18n";
import type { PrintBatch } from "../types";
import { when } from "../util";

export function PrintBatches({ onChange }: { onChange: () => void }) {
  const { t, lang } = useT();
  const [waiting, setWaiting] = useState<number | null>(null);
  const [batches, setBatches] = useState<PrintBatch[]>([]);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  const load = useCallback(() => {
    Promise.all([api.letters({ status: "ready", limit: "1000" }), api.printBatches()]).then(
      ([ready, list]) => { setWaiting(ready.filter((l) => !l.batch_id).length); setBatches(list.slice(0, 5)); },
      (e) => setError(e instanceof ApiError ? e.detail : String(e)),
    );
  }, []);
  useEffect(load, [load]);

  const act = async (run: () => Promise<unknown>) => {
    setBusy(true);
    setError("");
    try {
      await run();
      load();
      onChange();
    } catch (e) {
      setError(e instanceof ApiError ? e.detail : String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="print-batches" data-testid="print-batches">
      <h2>{t("opsPrintTitle")}</h2>
      <p className="muted">
        {waiting === null ? t("loading") : t("opsPrintWaiting", { n: waiting })}{" "}
        <button className="primary" disabled={busy || !waiting} onClick={() => void act(api.createPrintBatch)} data-testid="make-batch">
          {t("opsPrintMake")}
        </button>
      </p>
      {error && <div className="banner error" role="alert">{error}</div>}
      {batches.length > 0 && (
        <table className="table">
          <thead>
            <tr><th>{t("opsPrintMade")}</th><th>{t("opsPrintLetters")}</th><th>{t("opsPrintState")}</th><th /></tr>
          </thead>
          <tbody>
            {batches.map((b) => (
              <tr key={b.id} data-testid="print-batch">
                <td>{when(b.created_at, lang)}</td>
                <td>{b.letters}</td>
                <td>{b.printed_at ? t("opsPrintPrinted", { when: when(b.printed_at, lang) }) : t("opsPrintNotYet")}</td>
                <td className="actions">
                  <a href={`/api/v1/letters/batches/${b.id}/pdf`} target="_blank" rel="noopener" data-testid="batch-pdf">{t("opsPrintPdf")}</a>
                  {!b.printed_at && (
                    <button disabled={busy} onClick={() => void act(() => api.markPrinted(b.id))} data-testid="mark-printed">{t("opsPrintMark")}</button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
