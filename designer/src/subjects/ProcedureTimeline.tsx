// Every procedure of a debtor on a time axis (P6): past and running, primary and secondary,
// their steps placed by date with the D.I.P. of that day, the leading invoice, and for the
// current step why the debtor stands there (the rules and facts as they are now) or why not.
import { useEffect, useMemo, useState } from "react";
import { ApiError } from "../api";
import { useFlowTitles } from "../flowLabels";
import { useT, type TextKey } from "../i18n";
import { proceduresApi, type Position, type ProcedureRun, type Reason, type Step, type Timeline } from "../procedures/api";
import { when } from "../util";
import { statusText } from "../work/parts";
import { formatValue } from "./columns";

const STEP_TEXT: Record<string, TextKey> = {
  instance_started: "prcStepStarted",
  task_opened: "prcStepProposed",
  task_completed: "prcStepDone",
  email_queued: "prcStepEmail",
  letter_queued: "prcStepLetter",
  status_changed: "prcStepStatus",
  action_skipped: "prcStepSkipped",
  action_postponed: "prcStepPostponed",
  action_undone: "prcStepUndone",
  waiting: "prcStepWaiting",
  instance_completed: "prcStepCompleted",
  instance_stopped: "prcStepStopped",
  cancelled: "prcStepStopped",
  moved: "prcStepMoved",
};
const KIND_TEXT: Record<string, TextKey> = { primary: "prcPrimary", secondary: "prcSecondary" };
const DAY = 86_400_000;

function dayNumber(iso: string): number {
  return Math.floor(Date.parse(iso.slice(0, 10) + "T00:00:00Z") / DAY);
}

export function ProcedureTimelineCard({ subjectId }: { subjectId: string }) {
  const { t } = useT();
  const flowName = useFlowTitles();
  const [found, setLine] = useState<Timeline | null>(null);
  // Each procedure by its flow's name in the UI language (D6).
  const line = useMemo(
    () => found && { ...found, procedures: found.procedures.map((run) => ({ ...run, flow_name: flowName(run.flow_key, run.flow_name) })) },
    [found, flowName],
  );
  const [error, setError] = useState("");

  useEffect(() => {
    let live = true;
    proceduresApi.timeline(subjectId).then(
      (found) => live && setLine(found),
      (e) => live && setError(e instanceof ApiError ? e.detail : String(e)),
    );
    return () => { live = false; };
  }, [subjectId]);

  if (error) return <section className="card" data-testid="procedure-timeline"><h3>{t("prcTimelineTitle")}</h3><div className="error-box" role="alert">{error}</div></section>;
  if (!line || (line.type !== "debtor" && line.procedures.length === 0)) return null;
  return (
    <section className="card" data-testid="procedure-timeline">
      <h3>{t("prcTimelineTitle")}</h3>
      <Leading line={line} />
      {line.procedures.length === 0 && <div className="muted" data-testid="no-procedure">{t("prcNoProcedure")}</div>}
      {line.procedures.length > 0 && <Axis line={line} />}
      {line.procedures.map((run) => <RunView key={run.instance_id} run={run} />)}
      {line.why_not.length > 0 && (
        <div data-testid="why-not">
          <strong className="small-text">{t("prcWhyNot")}</strong>
          <Reasons reasons={line.why_not} />
        </div>
      )}
    </section>
  );
}

function Leading({ line }: { line: Timeline }) {
  const { t, lang } = useT();
  const words = { yes: t("subjYes"), no: t("subjNo") };
  if (!line.leading) return <div className="muted small-text" data-testid="dip">{t("prcNoDip")}</div>;
  const lead = line.leading;
  return (
    <div className="small-text" data-testid="dip">
      {t("prcDipNow", {
        dip: line.dip ?? "",
        number: lead.number,
        due: formatValue(lead.due_date, "date", lang, words),
        amount: formatValue(lead.open_amount, "decimal", lang, words, lead.currency),
      })}
      {line.dip_working !== null && line.procedures.some((r) => r.counts === "working") && (
        <> {t("prcDipWorkingNow", { dip: line.dip_working })}</>
      )}
    </div>
  );
}

/** All procedures on one axis: from the first start to today, one bar each, a dot per step. */
function Axis({ line }: { line: Timeline }) {
  const { t } = useT();
  const today = dayNumber(line.today);
  const first = Math.min(today, ...line.procedures.map((r) => dayNumber(r.started_at)));
  const span = Math.max(1, today - first);
  const at = (iso: string) => `${((dayNumber(iso) - first) / span) * 100}%`;
  return (
    <div data-testid="procedure-axis" style={{ margin: "8px 0 12px" }}>
      {line.procedures.map((run) => (
        <div key={run.instance_id} style={{ display: "flex", alignItems: "center", gap: 8, margin: "4px 0" }}>
          <span className="small-text" style={{ width: 140, flex: "none", overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" }} title={run.flow_name}>{run.flow_name}</span>
          <div style={{ position: "relative", flex: 1, height: 14 }}>
            <div style={{ position: "absolute", top: 6, height: 2, left: at(run.started_at), right: run.ended_at ? `${100 - parseFloat(at(run.ended_at))}%` : 0, background: run.status === "running" ? "var(--primary)" : "#94a3b8" }} />
            {run.steps.filter((s) => s.kind !== "waiting").map((step, i) => (
              <span key={i} title={`${step.day} ${step.label}${dipOf(run, step) === null ? "" : ` · ${t(run.counts === "working" ? "prcDipWorking" : "prcDip", { dip: dipOf(run, step) ?? "" })}`}`} style={{ position: "absolute", left: at(step.day), top: 2, width: 10, height: 10, marginLeft: -5, borderRadius: 5, background: "var(--panel)", border: "2px solid var(--primary)" }} />
            ))}
          </div>
        </div>
      ))}
    </div>
  );
}

function RunView({ run }: { run: ProcedureRun }) {
  const { t, lang } = useT();
  const steps = useMemo(() => run.steps.filter((s) => s.kind !== "waiting"), [run.steps]);
  return (
    <div className="timeline-instance" data-testid="procedure" data-flow={run.flow_key} data-kind={run.kind} data-status={run.status}>
      <div className="timeline-head">
        <strong>{run.flow_name}</strong>
        {run.kind && <span className="badge">{t(KIND_TEXT[run.kind])}</span>}
        <span className={`badge ${run.status === "running" ? "ok" : "readonly"}`}>{statusText(t, run.status)}</span>
        <span className="muted small-text">{when(run.started_at, lang)}{run.ended_at ? ` – ${when(run.ended_at, lang)}` : ""}</span>
      </div>
      <table className="table compact" data-testid="procedure-steps">
        <thead><tr><th>{t("prcColDay")}</th><th>{t(run.counts === "working" ? "prcColDipWorking" : "prcColDip")}</th><th>{t("prcColStep")}</th></tr></thead>
        <tbody>
          {steps.map((step, i) => <StepRow key={i} step={step} dip={dipOf(run, step)} />)}
        </tbody>
      </table>
      {run.current.map((position) => <Current key={position.node_id} position={position} />)}
    </div>
  );
}

/** The D.I.P. a procedure counts with: working days for one whose waits count them. */
function dipOf(run: ProcedureRun, step: Step): number | null {
  return run.counts === "working" ? step.dip_working : step.dip;
}

function StepRow({ step, dip }: { step: Step; dip: number | null }) {
  const { t, lang } = useT();
  const words = { yes: t("subjYes"), no: t("subjNo") };
  const key = STEP_TEXT[step.kind];
  const title = typeof step.data.title === "string" ? step.data.title : step.label;
  return (
    <tr data-step={step.kind}>
      <td className="nowrap">{formatValue(step.day, "date", lang, words)}</td>
      <td>{dip ?? ""}</td>
      <td>
        {key ? t(key) : step.kind} {title}
        {step.reason && <div className="muted small-text">{t("prcReason", { reason: step.reason })}</div>}
        {step.actor !== "system" && step.actor !== "procedures" && <div className="muted small-text">{step.actor}</div>}
      </td>
    </tr>
  );
}

function Current({ position }: { position: Position }) {
  const { t, lang } = useT();
  return (
    <div className="small-text" data-testid="current-step" style={{ marginTop: 6 }}>
      <strong>{t("prcNow", { step: position.label })}</strong>
      {position.proposal && <div>{t("prcWaitsFor", { proposal: position.proposal })}</div>}
      {position.postponed_until && <div>{t("prcUntil", { date: position.postponed_until })}</div>}
      {position.next_look && <div className="muted">{t("prcNextLook", { when: when(position.next_look, lang) })}</div>}
      <Reasons reasons={position.reasons} />
    </div>
  );
}

const WHAT_TEXT: Record<string, TextKey> = {
  branch: "prcWhyBranch",
  wait: "prcWhyWait",
  stop: "prcWhyStop",
  in_procedure: "prcWhyInProcedure",
  primary: "prcWhyPrimary",
  secondary: "prcWhySecondary",
};

function Reasons({ reasons }: { reasons: Reason[] }) {
  const { t } = useT();
  return (
    <ul className="small-text" data-testid="reasons" style={{ margin: "4px 0", paddingLeft: 18 }}>
      {reasons.map((reason, i) => (
        <li key={i} data-holds={reason.holds}>
          {WHAT_TEXT[reason.what] ? t(WHAT_TEXT[reason.what]) : reason.what} <code>{reason.text}</code>{" "}
          <span className={`badge ${reason.holds ? "ok" : "readonly"}`}>{reason.holds ? t("prcHolds") : t("prcHoldsNot")}</span>
          {reason.facts.length > 0 && (
            <span className="muted"> {reason.facts.map((f) => `${f.name} = ${f.value === null || f.value === undefined ? "–" : String(f.value)}`).join(", ")}</span>
          )}
        </li>
      ))}
    </ul>
  );
}
