// What the debtor did in the portal: promises, arrangements and their plans (M3, M5).
import { useEffect, useMemo, useState } from "react";
import { ApiError } from "../api";
import { useT, type TextKey } from "../i18n";
import { debtorPlans, type Arrangement, type DebtorPlans, type Instalment, type PaymentPromise } from "../portalflows/api";
import { ArrangementDecision } from "../portalflows/ArrangementDecision";
import { when } from "../util";
import { formatValue } from "./columns";

const STATUS: Record<string, TextKey> = {
  review: "pfStatusReview",
  active: "pfStatusActive",
  broken: "pfStatusBroken",
  completed: "pfStatusCompleted",
  replaced: "pfStatusReplaced",
  kept: "pfStatusKept",
  declined: "arStatusDeclined",
};
const BOUNDS: Record<string, TextKey> = {
  max_instalments: "pfBoundMaxInstalments",
  min_instalment_amount: "pfBoundMinAmount",
  max_term_days: "pfBoundMaxTerm",
};

function useFormat() {
  const { t, lang } = useT();
  return useMemo(() => {
    const words = { yes: t("subjYes"), no: t("subjNo") };
    return {
      date: (value: string) => formatValue(value.slice(0, 10), "date", lang, words),
      money: (value: string, currency: string) => formatValue(value, "decimal", lang, words, currency),
    };
  }, [t, lang]);
}

export function PortalActivityCard({ subjectId }: { subjectId: string }) {
  const { t } = useT();
  const [plans, setPlans] = useState<DebtorPlans | null>(null);
  const [error, setError] = useState("");
  const [done, setDone] = useState("");
  const [loads, setLoads] = useState(0);

  useEffect(() => {
    let live = true;
    debtorPlans(subjectId).then(
      (found) => live && setPlans(found),
      (e) => {
        // Not a debtor: the portal has nothing to say about this subject.
        if (e instanceof ApiError && e.status === 404) live && setPlans({ promises: [], arrangements: [] });
        else live && setError(e instanceof Error ? e.message : String(e));
      },
    );
    return () => { live = false; };
  }, [subjectId, loads]);

  // A decision changes the plan, the status and the invoices: read them again.
  function decided(_arrangement: Arrangement, message: string) {
    setDone(message);
    setLoads((n) => n + 1);
  }

  if (error) return <section className="card" data-testid="portal-activity"><h3>{t("pfTitle")}</h3><div className="error-box" role="alert">{error}</div></section>;
  if (!plans || (plans.promises.length === 0 && plans.arrangements.length === 0)) {
    return plans ? <section className="card" data-testid="portal-activity"><h3>{t("pfTitle")}</h3><div className="muted">{t("pfNone")}</div></section> : null;
  }
  return (
    <section className="card" data-testid="portal-activity">
      <h3>{t("pfTitle")}</h3>
      {done && <div className="toast ok" style={{ position: "static", transform: "none", display: "inline-block" }} role="status" data-testid="decision-done">✓ {done}</div>}
      {plans.arrangements.map((a) => <ArrangementView key={a.id} arrangement={a} onDecided={decided} />)}
      {plans.promises.map((p) => <PromiseView key={p.id} promise={p} />)}
    </section>
  );
}

function Status({ status }: { status: string }) {
  const { t } = useT();
  const key = STATUS[status];
  return <span className={`badge ${status}`} data-testid="portal-status">{key ? t(key) : status}</span>;
}

function PromiseView({ promise }: { promise: PaymentPromise }) {
  const { t } = useT();
  const f = useFormat();
  return (
    <div className="portal-plan" data-testid="portal-promise" data-status={promise.status}>
      <div>
        <strong>{t("pfPromise", { amount: f.money(promise.amount, promise.currency), date: f.date(promise.pay_on) })}</strong>{" "}
        <Status status={promise.status} />
      </div>
      <div className="muted small-text">
        {t("pfCheckOn", { date: f.date(promise.check_on) })} · {t("pfInvoices", { list: promise.open_items.join(", ") })}
      </div>
    </div>
  );
}

function instalmentKey(i: Instalment, today: string): TextKey {
  if (Number(i.paid_amount) >= Number(i.amount)) return "pfInstPaid";
  if (Number(i.paid_amount) > 0) return "pfInstPartly";
  return i.due_date < today ? "pfInstOverdue" : "pfInstOpen";
}

export function ArrangementView({ arrangement: a, onDecided }: { arrangement: Arrangement; onDecided?: (decided: Arrangement, message: string) => void }) {
  const { t, lang } = useT();
  const f = useFormat();
  const today = new Date().toISOString().slice(0, 10);
  return (
    <div className="portal-plan" data-testid="portal-arrangement" data-status={a.status}>
      <div>
        <strong>{t("pfArrangement", { amount: f.money(a.amount, a.currency), count: a.instalments.length })}</strong>{" "}
        <Status status={a.status} />
      </div>
      <div className="muted small-text">
        {t("pfProposedOn", { date: f.date(a.created_at) })} · {t("pfInvoices", { list: a.open_items.join(", ") })}
      </div>
      {a.exceeded.length > 0 && (
        <div className="small-text" data-testid="portal-exceeded">
          {t("pfExceeded", { list: a.exceeded.map((b) => (BOUNDS[b] ? t(BOUNDS[b]) : b)).join(", ") })}
        </div>
      )}
      {a.decided_at && (
        <div className="small-text" data-testid="arrangement-decided">
          {t("arDecidedBy", { decision: t(a.status === "declined" ? "arDecisionDeclined" : "arDecisionAccepted"), who: a.decided_by ?? "", when: when(a.decided_at, lang) })}
          {a.decision_reason && <div style={{ whiteSpace: "pre-wrap" }}>{t("arReasonShown", { reason: a.decision_reason })}</div>}
        </div>
      )}
      <table className="fields-table" data-testid="portal-instalments">
        <thead>
          <tr><th>{t("pfNumber")}</th><th>{t("pfDue")}</th><th>{t("pfAmount")}</th><th>{t("pfPaid")}</th><th>{t("pfInstalmentState")}</th></tr>
        </thead>
        <tbody>
          {a.instalments.map((i) => (
            <tr key={i.number}>
              <td>{i.number}</td>
              <td>{f.date(i.due_date)}</td>
              <td>{f.money(i.amount, a.currency)}</td>
              <td>{f.money(i.paid_amount, a.currency)}</td>
              <td>{t(instalmentKey(i, today))}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {a.status === "review" && onDecided && <ArrangementDecision arrangement={a} onDecided={onDecided} />}
    </div>
  );
}
