// Registering a debtor workflow as a procedure, or changing a registration: its kind, the
// default, and its rule in the shared rule editor over the debtor's fields and facts.
import { useState } from "react";
import { ApiError } from "../api";
import { RuleBuilder, type RuleContext } from "../components/RuleBuilder";
import { useT } from "../i18n";
import type { Rule } from "../types";
import { registrationsApi, type Candidate, type ProcedureKind, type Registration } from "./registrations";

/** A first rule to fill in: the D.I.P. when the debtor has it. */
export function startRule(ctx: RuleContext): Rule {
  if (ctx.fields.some((f) => f.path === "subject.oldest_overdue_days")) {
    return { kind: "compare", field: "subject.oldest_overdue_days", op: ">=", value: { type: "decimal", value: "0" } };
  }
  return { kind: "compare", field: ctx.fields[0]?.path ?? "subject.status", op: "is_set" };
}

export function RegistrationDialog({ editing, candidates, fallback, ctx, onSaved, onClose }: {
  editing: Registration | null;
  candidates: Candidate[];
  fallback: Registration | null;
  ctx: RuleContext;
  onSaved: (saved: Registration) => void;
  onClose: () => void;
}) {
  const { t } = useT();
  const [flow, setFlow] = useState(editing?.flow_key ?? "");
  const [kind, setKind] = useState<ProcedureKind>(editing?.kind ?? "primary");
  const [isDefault, setDefault] = useState(editing?.default ?? false);
  const [rule, setRule] = useState<Rule>(editing?.rule ?? startRule(ctx));
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const defaultTaken = fallback !== null && fallback.flow_key !== flow;
  const usesDefault = kind === "primary" && isDefault;
  const candidate = candidates.find((c) => c.flow_key === flow);
  const stopText = editing ? editing.stop_text : null;

  async function save() {
    setBusy(true);
    setError("");
    try {
      const body = usesDefault ? { kind, default: true } : { kind, rule };
      onSaved(await registrationsApi.save(flow, body));
    } catch (e) {
      setError(e instanceof ApiError ? e.detail : String(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="modal-backdrop" onMouseDown={(e) => { if (e.target === e.currentTarget) onClose(); }}>
      <div className="modal reg-dialog" role="dialog" aria-modal="true" data-testid="registration-dialog">
        <h2>{editing ? t("regEditTitle", { name: editing.name }) : t("regAddTitle")}</h2>
        {!editing && (
          candidates.length === 0 ? <p className="muted">{t("regNoCandidates")}</p> : (
            <label className="field">
              <span>{t("regFlow")}</span>
              <select value={flow} onChange={(e) => setFlow(e.target.value)} data-testid="registration-flow">
                <option value="">{t("regChooseFlow")}</option>
                {candidates.map((c) => <option key={c.flow_key} value={c.flow_key} data-i18n-skip>{c.name} ({c.flow_key})</option>)}
              </select>
            </label>
          )
        )}
        <fieldset className="reg-kind">
          <legend>{t("regKind")}</legend>
          {(["primary", "secondary"] as const).map((k) => (
            <label key={k}>
              <input type="radio" name="kind" value={k} checked={kind === k} onChange={() => setKind(k)} data-testid={`kind-${k}`} />
              {k === "primary" ? t("regKindPrimary") : t("regKindSecondary")}
            </label>
          ))}
        </fieldset>
        {kind === "primary" && (
          defaultTaken ? <p className="muted small-text">{t("regDefaultTaken", { name: fallback.name })}</p> : (
            <label>
              <input type="checkbox" checked={isDefault} onChange={(e) => setDefault(e.target.checked)} data-testid="registration-default" /> {t("regIsDefault")}
            </label>
          )
        )}
        {!usesDefault && (
          <div className="reg-rule">
            <div className="control-label">{kind === "primary" ? t("regRuleLabelPrimary") : t("regRuleLabelSecondary")}</div>
            <RuleBuilder value={rule} onChange={setRule} ctx={ctx} />
          </div>
        )}
        {kind === "secondary" && editing && (
          <p className="muted small-text" data-testid="registration-stop">
            {stopText ? t("regStopNote", { rule: stopText }) : t("regStopNone")}
          </p>
        )}
        {error && <div className="error-box" role="alert">{error}</div>}
        <div className="modal-actions">
          <button onClick={onClose}>{t("cancel")}</button>
          <button className="primary" disabled={busy || !flow || (!editing && !candidate)} onClick={() => void save()} data-testid="registration-save">{t("regSave")}</button>
        </div>
      </div>
    </div>
  );
}

export function DefaultDialog({ chosen, fallback, ctx, onDone, onClose }: {
  chosen: Registration;
  fallback: Registration | null;
  ctx: RuleContext;
  onDone: (list: Registration[]) => void;
  onClose: () => void;
}) {
  const { t } = useT();
  const [rule, setRule] = useState<Rule>(startRule(ctx));
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  async function save() {
    setBusy(true);
    setError("");
    try {
      onDone(await registrationsApi.setDefault(chosen.flow_key, fallback ? rule : null));
    } catch (e) {
      setError(e instanceof ApiError ? e.detail : String(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="modal-backdrop" onMouseDown={(e) => { if (e.target === e.currentTarget) onClose(); }}>
      <div className="modal reg-dialog" role="dialog" aria-modal="true" data-testid="default-dialog">
        <h2>{t("regDefaultTitle", { name: chosen.name })}</h2>
        <p>{t("regDefaultText", { name: chosen.name })}</p>
        {fallback && (
          <div className="reg-rule">
            <div className="control-label">{t("regPreviousRule", { name: fallback.name })}</div>
            <RuleBuilder value={rule} onChange={setRule} ctx={ctx} />
          </div>
        )}
        {error && <div className="error-box" role="alert">{error}</div>}
        <div className="modal-actions">
          <button onClick={onClose}>{t("cancel")}</button>
          <button className="primary" disabled={busy} onClick={() => void save()} data-testid="default-save">{t("regMakeDefault")}</button>
        </div>
      </div>
    </div>
  );
}
