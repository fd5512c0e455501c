// The rule builder: the one custom widget of the parameter forms.
// Edits a rule tree (backend/procedo/rules/model.py) as AND/OR groups of
// comparisons, or as text in the expression syntax, and shows how many of the
// tenant's subjects the rule matches. The text is read and written by the server
// (POST /rules/parse and /rules/format: procedo.rules.text), the one rule parser.
import { useEffect, useMemo, useRef, useState } from "react";
import { api, ApiError } from "../api";
import { pick, useT } from "../i18n";
import { describeProblem } from "../flow/problems";
import type { CompareOp, Labels, Problem, Rule, ScalarValue, Value } from "../types";

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
  fields.sort((a, b) => a.label.localeCompare(b.label, lang));
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
  const { t } = useT();
  if (value.type === "bool") {
    return (
      <select className="rb-value" aria-label={t("rbValue")} value={String(value.value)} onChange={(e) => onChange({ type: "bool", value: e.target.value === "true" })}>
        <option value="true">{t("rbYes")}</option>
        <option value="false">{t("rbNo")}</option>
      </select>
    );
  }
  const inputType = value.type === "date" ? "date" : value.type === "datetime" ? "datetime-local" : "text";
  return (
    <input
      className="rb-value"
      aria-label={t("rbValue")}
      type={inputType}
      inputMode={value.type === "decimal" ? "decimal" : undefined}
      placeholder={value.type === "decimal" ? "0.00" : ""}
      value={String(value.value)}
      onChange={(e) => onChange({ ...value, value: e.target.value } as ScalarValue)}
    />
  );
}

function CompareEditor({ rule, ctx, onChange }: { rule: Extract<Rule, { kind: "compare" }>; ctx: RuleContext; onChange: (r: Rule) => void }) {
  const { t, lang } = useT();
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
      <select className="rb-field" value={rule.field} aria-label={t("rbField")} onChange={(e) => set({ field: e.target.value })} title={rule.field}>
        {!field && <option value={rule.field}>{rule.field}</option>}
        {ctx.fields.map((f) => <option key={f.path} value={f.path}>{f.label}</option>)}
      </select>
      <select className="rb-op" value={rule.op} aria-label={t("rbOperator")} onChange={(e) => set({ op: e.target.value as CompareOp })}>
        {ops.map((o) => <option key={o.op} value={o.op}>{o.text[LANG_INDEX[lang]]}</option>)}
      </select>
      {v && v.type !== "list" && <ScalarInput value={v} onChange={(nv) => onChange({ ...rule, value: nv })} />}
      {v && v.type === "list" && (
        <span className="rb-list">
          {v.items.map((item, i) => (
            <span key={i} className="rb-list-item">
              {i > 0 && <span className="muted">{rule.op === "between" ? t("rbAnd") : ","}</span>}
              <ScalarInput value={item} onChange={(nv) => onChange({ ...rule, value: { type: "list", items: v.items.map((x, j) => (j === i ? nv : x)) } })} />
              {rule.op === "in" && v.items.length > 1 && (
                <button type="button" className="icon" title={t("rbRemove")} onClick={() => onChange({ ...rule, value: { type: "list", items: v.items.filter((_, j) => j !== i) } })}>×</button>
              )}
            </span>
          ))}
          {rule.op === "in" && (
            <button type="button" className="icon" title={t("rbAddValue")} onClick={() => onChange({ ...rule, value: { type: "list", items: [...v.items, blank(valueType(fieldType))] } })}>+</button>
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
          <button type="button" className="icon" title={t("rbNot")} onClick={() => onChange({ kind: "not", rule })}>¬</button>
          {depth === 0 && (
            <>
              <button type="button" className="small" onClick={() => onChange({ kind: "all", rules: [rule, newCompare(ctx)] })}>{t("rbPlusAnd")}</button>
              <button type="button" className="small" onClick={() => onChange({ kind: "any", rules: [rule, newCompare(ctx)] })}>{t("rbPlusOr")}</button>
            </>
          )}
          {onRemove && <button type="button" className="icon danger" title={t("rbRemove")} onClick={onRemove}>×</button>}
        </span>
      </div>
    );
  }
  if (rule.kind === "not") {
    return (
      <div className="rb-group rb-not">
        <div className="rb-group-head">
          <span className="rb-kind">{t("notGroup")}</span>
          <button type="button" className="small" onClick={() => onChange(rule.rule)}>{t("rbRemoveNot")}</button>
          {onRemove && <button type="button" className="icon danger" title={t("rbRemove")} onClick={onRemove}>×</button>}
        </div>
        <RuleNodeEditor rule={rule.rule} ctx={ctx} depth={depth + 1} onChange={(r) => onChange({ kind: "not", rule: r })} />
      </div>
    );
  }
  const set = (rules: Rule[]) => onChange({ kind: rule.kind, rules });
  return (
    <div className={`rb-group rb-${rule.kind}`}>
      <div className="rb-group-head">
        <select className="rb-kind" value={rule.kind} aria-label={t("rbGroup")} onChange={(e) => onChange({ kind: e.target.value as "all" | "any", rules: rule.rules })}>
          <option value="all">{t("allOf")}</option>
          <option value="any">{t("anyOf")}</option>
        </select>
        <button type="button" className="small" onClick={() => set([...rule.rules, newCompare(ctx)])}>{t("addCondition")}</button>
        <button type="button" className="small" onClick={() => set([...rule.rules, { kind: rule.kind === "all" ? "any" : "all", rules: [newCompare(ctx)] }])}>{t("addGroup")}</button>
        <button type="button" className="icon" title={t("rbNot")} onClick={() => onChange({ kind: "not", rule })}>¬</button>
        {onRemove && <button type="button" className="icon danger" title={t("rbRemove")} onClick={onRemove}>×</button>}
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
        {rule.rules.length === 0 && <div className="muted small-text">{rule.kind === "all" ? t("rbAlwaysTrue") : t("rbAlwaysFalse")}</div>}
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

/** A text-mode problem as a sentence (the server's message and code on hover). */
function sayProblem(p: Problem, lang: "en" | "nl" | "de", ruleWord: string): { text: string; code: string } {
  return describeProblem({ ...p, node: "rule", path: null }, lang, { nodeLabel: () => ruleWord, fieldTitle: () => null, portLabel: (_n, port) => port, edges: [] });
}

export function RuleBuilder({ value, onChange, ctx, readOnly }: { value: Rule | null | undefined; onChange: (r: Rule) => void; ctx: RuleContext; readOnly?: boolean }) {
  const { t, lang } = useT();
  const [mode, setMode] = useState<"builder" | "text">("builder");
  const [text, setText] = useState("");
  // "formatting": the server writes the rule as text; "parsing": it reads what was typed.
  const [textState, setTextState] = useState<"ready" | "formatting" | "parsing" | "error">("ready");
  const [textProblems, setTextProblems] = useState<Problem[]>([]);
  const [match, setMatch] = useState<{ matched: number; total: number } | null>(null);
  const [matchError, setMatchError] = useState("");
  // A value that is not a rule yet (a new branch) shows a first comparison to fill in.
  const rule = isRule(value) ? value : newCompare(ctx);
  const ruleJson = useMemo(() => JSON.stringify(rule), [rule]);
  // The server's text for the rule as it is, fetched ahead so the text mode opens at once.
  const formatted = useRef<{ json: string; text: string } | null>(null);
  const asked = useRef(0);

  useEffect(() => {
    if (mode !== "builder") return;
    const timer = setTimeout(() => {
      api.formatRule(JSON.parse(ruleJson) as Rule).then((text) => { formatted.current = { json: ruleJson, text }; }, () => undefined);
    }, 300);
    return () => clearTimeout(timer);
  }, [ruleJson, mode]);

  function showText() {
    if (mode === "text") return;
    setMode("text");
    setTextProblems([]);
    if (formatted.current?.json === ruleJson) {
      setText(formatted.current.text);
      setTextState("ready");
      return;
    }
    // The box stays read-only until the server's text is in, so nothing typed is overwritten.
    setText("");
    setTextState("formatting");
    const ask = ++asked.current;
    api.formatRule(rule).then(
      (answer) => { if (ask === asked.current) { setText(answer); setTextState("ready"); } },
      () => { if (ask === asked.current) setTextState("ready"); },
    );
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

  // What was typed goes to the server's parser after a short pause; the latest answer wins.
  const typed = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => { if (typed.current) clearTimeout(typed.current); }, []);
  function applyText(next: string) {
    setText(next);
    setTextState("parsing");
    if (typed.current) clearTimeout(typed.current);
    const ask = ++asked.current;
    typed.current = setTimeout(() => {
      api.parseRule(next, ctx.subjectType || undefined).then(
        (answer) => {
          if (ask !== asked.current) return;
          setTextProblems(answer.problems);
          if (answer.rule) {
            setTextState("ready");
            if (answer.text) formatted.current = { json: JSON.stringify(answer.rule), text: answer.text };
            if (JSON.stringify(answer.rule) !== ruleJson) onChange(answer.rule);
          } else setTextState("error");
        },
        (e) => {
          if (ask !== asked.current) return;
          setTextState("error");
          setTextProblems([{ code: "rule.syntax", message: e instanceof ApiError ? e.detail : String(e) }]);
        },
      );
    }, 350);
  }

  return (
    <div className="rule-builder" data-testid="rule-builder">
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
            <textarea
              className="rb-text"
              rows={3}
              spellCheck={false}
              value={text}
              readOnly={textState === "formatting"}
              placeholder={textState === "formatting" ? t("rbLoading") : ""}
              onChange={(e) => applyText(e.target.value)}
              aria-label={t("rbText")}
              data-state={textState}
            />
            {textProblems.map((p, i) => {
              const said = sayProblem(p, lang, t("rbText"));
              return <div key={i} className={`${textState === "error" ? "error" : "warn"} small-text`} data-testid="rule-text-problem" data-code={p.code} title={said.code}>{said.text}</div>;
            })}
          </>
        )}
      </fieldset>
    </div>
  );
}
