// The rule builder: the one custom widget of the parameter forms.
// Edits a rule tree (backend/procedo/rules/model.py) as AND/OR groups of
// comparisons, or as text in the expression syntax, and shows how many of the
// tenant's subjects the rule matches.
import { useEffect, useMemo, useState } from "react";
import { api, ApiError } from "../api";
import { pick, useT } from "../i18n";
import { formatRule, parseRule, RuleSyntaxError } from "../rules/text";
import type { CompareOp, Labels, Rule, ScalarValue, Value } from "../types";

export interface FieldOption {
  path: string;
  type: string;
  label: string;
}

export interface RuleContext {
  subjectType: string;
  fields: FieldOption[];
}

export function fieldsFrom(subjectType: Record<string, unknown> | null, lang: "en" | "nl" | "de"): FieldOption[] {
  const list = Array.isArray(subjectType?.fields) ? (subjectType!.fields as Record<string, unknown>[]) : [];
  const fields = list.map((f) => ({
    path: `subject.${String(f.name)}`,
    type: String(f.type ?? "string"),
    label: pick(f.label as Labels | string | undefined, lang) || String(f.name),
  }));
  if (!fields.some((f) => f.path === "subject.status")) fields.push({ path: "subject.status", type: "string", label: "Status" });
  return fields;
}

const ORDERED = ["decimal", "integer", "date", "datetime"];
const OPS: { op: CompareOp; text: [string, string, string]; types?: string[] }[] = [
  { op: "=", text: ["=", "=", "="] },
  { op: "!=", text: ["≠", "≠", "≠"] },
  { op: "<", text: ["<", "<", "<"], types: ORDERED },
  { op: "<=", text: ["≤", "≤", "≤"], types: ORDERED },
  { op: ">", text: [">", ">", ">"], types: ORDERED },
  { op: ">=", text: ["≥", "≥", "≥"], types: ORDERED },
  { op: "between", text: ["between", "tussen", "zwischen"], types: ORDERED },
  { op: "in", text: ["is one of", "is een van", "ist eins von"] },
  { op: "contains", text: ["contains", "bevat", "enthält"], types: ["string", "text", "email", "list"] },
  { op: "is_empty", text: ["is empty", "is leeg", "ist leer"] },
  { op: "is_set", text: ["is set", "is ingevuld", "ist gesetzt"] },
];
const LANG_INDEX = { en: 0, nl: 1, de: 2 } as const;

function valueType(fieldType: string): ScalarValue["type"] {
  if (fieldType === "decimal" || fieldType === "integer") return "decimal";
  if (fieldType === "date") return "date";
  if (fieldType === "datetime") return "datetime";
  if (fieldType === "bool") return "bool";
  return "string";
}

function blank(type: ScalarValue["type"]): ScalarValue {
  if (type === "bool") return { type, value: true };
  return { type, value: "" } as ScalarValue;
}

function fitValue(op: CompareOp, fieldType: string, old: Value | null | undefined): Value | undefined {
  const type = valueType(fieldType);
  if (op === "is_empty" || op === "is_set") return undefined;
  const scalars = old ? (old.type === "list" ? old.items : [old]) : [];
  const fit = (v: ScalarValue | undefined) => (v && v.type === type ? v : blank(type));
  if (op === "between") return { type: "list", items: [fit(scalars[0]), fit(scalars[1])] };
  if (op === "in") return { type: "list", items: scalars.length ? scalars.map(fit) : [blank(type)] };
  return fit(scalars[0]);
}

function ScalarInput({ value, onChange }: { value: ScalarValue; onChange: (v: ScalarValue) => void }) {
  if (value.type === "bool") {
    return (
      <select className="rb-value" value={String(value.value)} onChange={(e) => onChange({ type: "bool", value: e.target.value === "true" })}>
        <option value="true">true</option>
        <option value="false">false</option>
      </select>
    );
  }
  const inputType = value.type === "date" ? "date" : value.type === "datetime" ? "datetime-local" : "text";
  return (
    <input
      className="rb-value"
      type={inputType}
      inputMode={value.type === "decimal" ? "decimal" : undefined}
      placeholder={value.type === "decimal" ? "0.00" : ""}
      value={String(value.value)}
      onChange={(e) => onChange({ ...value, value: e.target.value } as ScalarValue)}
    />
  );
}

function CompareEditor({ rule, ctx, onChange }: { rule: Extract<Rule, { kind: "compare" }>; ctx: RuleContext; onChange: (r: Rule) => void }) {
  const { lang } = useT();
  const field = ctx.fields.find((f) => f.path === rule.field);
  const fieldType = field?.type ?? (rule.value && rule.value.type !== "list" ? rule.value.type : "string");
  const ops = OPS.filter((o) => !o.types || o.types.includes(fieldType) || o.op === rule.op);
  const set = (next: Partial<Extract<Rule, { kind: "compare" }>>) => {
    const merged = { ...rule, ...next };
    const value = fitValue(merged.op, ctx.fields.find((f) => f.path === merged.field)?.type ?? fieldType, merged.value);
    const out: Rule = { kind: "compare", field: merged.field, op: merged.op };
    if (value !== undefined) (out as { value?: Value }).value = value;
    onChange(out);
  };
  const v = rule.value;
  return (
    <div className="rb-compare">
      <input
        className="rb-field"
        list="rb-fields"
        value={rule.field}
        aria-label="field"
        onChange={(e) => set({ field: e.target.value })}
        title={field ? `${field.label} (${field.type})` : "subject.… or vars.…"}
      />
      <select className="rb-op" value={rule.op} aria-label="operator" onChange={(e) => set({ op: e.target.value as CompareOp })}>
        {ops.map((o) => <option key={o.op} value={o.op}>{o.text[LANG_INDEX[lang]]}</option>)}
      </select>
      {v && v.type !== "list" && <ScalarInput value={v} onChange={(nv) => onChange({ ...rule, value: nv })} />}
      {v && v.type === "list" && (
        <span className="rb-list">
          {v.items.map((item, i) => (
            <span key={i} className="rb-list-item">
              {i > 0 && <span className="muted">{rule.op === "between" ? "and" : ","}</span>}
              <ScalarInput value={item} onChange={(nv) => onChange({ ...rule, value: { type: "list", items: v.items.map((x, j) => (j === i ? nv : x)) } })} />
              {rule.op === "in" && v.items.length > 1 && (
                <button type="button" className="icon" title="remove" onClick={() => onChange({ ...rule, value: { type: "list", items: v.items.filter((_, j) => j !== i) } })}>×</button>
              )}
            </span>
          ))}
          {rule.op === "in" && (
            <button type="button" className="icon" title="add a value" onClick={() => onChange({ ...rule, value: { type: "list", items: [...v.items, blank(valueType(fieldType))] } })}>+</button>
          )}
        </span>
      )}
    </div>
  );
}

function newCompare(ctx: RuleContext): Rule {
  const f = ctx.fields[0];
  const path = f?.path ?? "subject.status";
  const type = f?.type ?? "string";
  return { kind: "compare", field: path, op: "=", value: blank(valueType(type)) };
}

function RuleNodeEditor({ rule, ctx, onChange, onRemove, depth }: { rule: Rule; ctx: RuleContext; onChange: (r: Rule) => void; onRemove?: () => void; depth: number }) {
  const { t } = useT();
  if (rule.kind === "compare") {
    return (
      <div className="rb-row">
        <CompareEditor rule={rule} ctx={ctx} onChange={onChange} />
        <span className="rb-row-actions">
          <button type="button" className="icon" title="NOT" onClick={() => onChange({ kind: "not", rule })}>¬</button>
          {depth === 0 && (
            <>
              <button type="button" className="small" onClick={() => onChange({ kind: "all", rules: [rule, newCompare(ctx)] })}>+ AND</button>
              <button type="button" className="small" onClick={() => onChange({ kind: "any", rules: [rule, newCompare(ctx)] })}>+ OR</button>
            </>
          )}
          {onRemove && <button type="button" className="icon danger" title="remove" onClick={onRemove}>×</button>}
        </span>
      </div>
    );
  }
  if (rule.kind === "not") {
    return (
      <div className="rb-group rb-not">
        <div className="rb-group-head">
          <span className="rb-kind">{t("notGroup")}</span>
          <button type="button" className="small" onClick={() => onChange(rule.rule)}>remove NOT</button>
          {onRemove && <button type="button" className="icon danger" title="remove" onClick={onRemove}>×</button>}
        </div>
        <RuleNodeEditor rule={rule.rule} ctx={ctx} depth={depth + 1} onChange={(r) => onChange({ kind: "not", rule: r })} />
      </div>
    );
  }
  const set = (rules: Rule[]) => onChange({ kind: rule.kind, rules });
  return (
    <div className={`rb-group rb-${rule.kind}`}>
      <div className="rb-group-head">
        <select className="rb-kind" value={rule.kind} aria-label="group" onChange={(e) => onChange({ kind: e.target.value as "all" | "any", rules: rule.rules })}>
          <option value="all">{t("allOf")}</option>
          <option value="any">{t("anyOf")}</option>
        </select>
        <button type="button" className="small" onClick={() => set([...rule.rules, newCompare(ctx)])}>{t("addCondition")}</button>
        <button type="button" className="small" onClick={() => set([...rule.rules, { kind: rule.kind === "all" ? "any" : "all", rules: [newCompare(ctx)] }])}>{t("addGroup")}</button>
        <button type="button" className="icon" title="NOT" onClick={() => onChange({ kind: "not", rule })}>¬</button>
        {onRemove && <button type="button" className="icon danger" title="remove" onClick={onRemove}>×</button>}
      </div>
      <div className="rb-children">
        {rule.rules.map((child, i) => (
          <RuleNodeEditor
            key={i}
            rule={child}
            ctx={ctx}
            depth={depth + 1}
            onChange={(r) => set(rule.rules.map((x, j) => (j === i ? r : x)))}
            onRemove={() => set(rule.rules.filter((_, j) => j !== i))}
          />
        ))}
        {rule.rules.length === 0 && <div className="muted small-text">{rule.kind === "all" ? "always true" : "always false"}</div>}
      </div>
    </div>
  );
}

export function isRule(value: unknown): value is Rule {
  if (!value || typeof value !== "object") return false;
  const v = value as Record<string, unknown>;
  if (v.kind === "compare") return typeof v.field === "string" && typeof v.op === "string";
  if (v.kind === "all" || v.kind === "any") return Array.isArray(v.rules) && v.rules.every(isRule);
  if (v.kind === "not") return isRule(v.rule);
  return false;
}

export function RuleBuilder({ value, onChange, ctx, readOnly }: { value: Rule | null | undefined; onChange: (r: Rule) => void; ctx: RuleContext; readOnly?: boolean }) {
  const { t } = useT();
  const [mode, setMode] = useState<"builder" | "text">("builder");
  const [text, setText] = useState("");
  const [textError, setTextError] = useState("");
  const [match, setMatch] = useState<{ matched: number; total: number } | null>(null);
  const [matchError, setMatchError] = useState("");
  // A value that is not a rule yet (a new branch) shows a first comparison to fill in.
  const rule = isRule(value) ? value : newCompare(ctx);
  const ruleJson = useMemo(() => JSON.stringify(rule), [rule]);

  // The text is set in the same update that shows the text box (not in an effect after
  // it), so nothing typed into the box right away is overwritten by the formatted rule.
  function showText() {
    if (mode === "text") return;
    try {
      setText(formatRule(rule));
    } catch {
      setText("");
    }
    setTextError("");
    setMode("text");
  }

  useEffect(() => {
    if (!ctx.subjectType) return;
    const timer = setTimeout(() => {
      api.matchRule(ctx.subjectType, JSON.parse(ruleJson)).then(
        (m) => { setMatch(m); setMatchError(""); },
        (e) => { setMatch(null); setMatchError(e instanceof ApiError ? e.detail : ""); },
      );
    }, 400);
    return () => clearTimeout(timer);
  }, [ruleJson, ctx.subjectType]);

  function applyText(next: string) {
    setText(next);
    try {
      const parsed = parseRule(next);
      setTextError("");
      onChange(parsed);
    } catch (e) {
      setTextError(e instanceof RuleSyntaxError ? e.message : String(e));
    }
  }

  return (
    <div className="rule-builder" data-testid="rule-builder">
      <datalist id="rb-fields">
        {ctx.fields.map((f) => <option key={f.path} value={f.path}>{`${f.label} (${f.type})`}</option>)}
      </datalist>
      <div className="rb-top">
        <div className="seg">
          <button type="button" className={mode === "builder" ? "on" : ""} onClick={() => setMode("builder")}>{t("builderMode")}</button>
          <button type="button" className={mode === "text" ? "on" : ""} onClick={showText}>{t("textMode")}</button>
        </div>
        <span className="rb-match" data-testid="rule-match" title={matchError}>
          {match ? t("matches", { n: match.matched, m: match.total }) : matchError ? "—" : ""}
        </span>
      </div>
      <fieldset disabled={readOnly} className="rb-body">
        {mode === "builder" ? (
          <RuleNodeEditor rule={rule} ctx={ctx} onChange={onChange} depth={0} />
        ) : (
          <>
            <textarea className="rb-text" rows={3} spellCheck={false} value={text} onChange={(e) => applyText(e.target.value)} aria-label="rule text" />
            {textError && <div className="error small-text">{textError}</div>}
          </>
        )}
      </fieldset>
    </div>
  );
}
