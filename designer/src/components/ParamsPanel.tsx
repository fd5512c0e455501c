// The side panel: a node's label and its params form, rendered from the node
// type's params JSON Schema by @rjsf/core, in the user's language: titles, help,
// choices and pickers are declared by each node type (procedo.nodeforms). No
// per-node-type form code: the custom pieces are the rule builder, wherever the
// schema holds a rule tree, and the pickers, wherever a param declares one.
import { memo, useMemo } from "react";
import Form from "@rjsf/core";
import { validator } from "../flow/validator";
import type { FieldProps, RJSFSchema, WidgetProps } from "@rjsf/utils";
import { pick, useT } from "../i18n";
import { errorSchemaFor, localizeErrors, prepareSchema, pruneDefaults, titleAt, uiSchemaFor } from "../flow/schema";
import { formStrings } from "../flow/formStrings";
import { pickerFields } from "./pickers/PickerField";
import { RuleBuilder, type RuleContext } from "./RuleBuilder";
import type { FlowNode, NodeTypeInfo, Problem, Rule } from "../types";
import { CATEGORY_COLORS } from "./NodeView";

function RuleField(props: FieldProps) {
  const { t } = useT();
  const ctx = (props.registry.formContext ?? { subjectType: "", fields: [] }) as RuleContext;
  const nullable = Array.isArray(props.schema.anyOf) && props.schema.anyOf.some((m) => typeof m === "object" && m.type === "null");
  const empty = props.formData === null || props.formData === undefined;
  const editable = !(props.readonly || props.disabled);
  return (
    <div className="rule-field">
      <label className="control-label">{props.schema.title ?? props.name}</label>
      {nullable && empty ? (
        editable ? <button type="button" className="small" onClick={() => props.onChange({ kind: "compare", field: ctx.fields[0]?.path ?? "subject.status", op: "is_set" } as never, props.fieldPathId.path)}>{t("ruleAdd")}</button> : <div className="muted">—</div>
      ) : (
      <>
      {nullable && editable && <button type="button" className="small rb-clear" onClick={() => props.onChange(null as never, props.fieldPathId.path)}>{t("ruleClear")}</button>}
      <RuleBuilder
        value={props.formData as Rule | undefined}
        ctx={ctx}
        readOnly={props.readonly || props.disabled}
        onChange={(rule) => props.onChange(rule as never, props.fieldPathId.path)}
      />
      </>
      )}
    </div>
  );
}

export const ruleFields = { rule: RuleField, ...pickerFields };

/** A field path (subject.… / vars.…) with the subject type's fields offered. */
function FieldPathWidget(props: WidgetProps) {
  return (
    <input
      id={props.id}
      name={props.name}
      className="form-control"
      list="params-fields"
      value={typeof props.value === "string" ? props.value : ""}
      required={props.required}
      disabled={props.disabled || props.readonly}
      placeholder="subject.…"
      onChange={(e) => props.onChange(e.target.value === "" ? props.options.emptyValue : e.target.value)}
      onBlur={() => props.onBlur(props.id, props.value)}
      onFocus={() => props.onFocus(props.id, props.value)}
    />
  );
}

export const paramWidgets = { fieldPath: FieldPathWidget };

interface Props {
  node: FlowNode;
  info: NodeTypeInfo | undefined;
  problems: Problem[];
  ruleContext: RuleContext;
  readOnly: boolean;
  onChange: (node: FlowNode) => void;
  /** a problem as a sentence in the user's language (the editor's problem list says it so) */
  describe?: (problem: Problem) => string;
}

function ParamsPanelInner({ node, info, problems, ruleContext, readOnly, onChange, describe }: Props) {
  const { t, lang } = useT();
  const schema = useMemo(() => (info ? prepareSchema(info.params_schema, lang) : {}), [info, lang]);
  const translateString = useMemo(() => formStrings(lang), [lang]);
  const uiSchema = useMemo(() => ({ ...uiSchemaFor(schema), "ui:submitButtonOptions": { norender: true } }), [schema]);
  const hasFields = Boolean(
    info && (() => {
      const root = schema.$ref ? schema.$defs?.[String(schema.$ref).split("/").pop()!] : schema;
      return root && root.properties && Object.keys(root.properties).length > 0;
    })(),
  );
  return (
    <div className="params-panel" data-testid="params-panel" data-node={node.id}>
      <div className="panel-head" style={{ borderColor: CATEGORY_COLORS[info?.category ?? ""] ?? "#94a3b8" }}>
        <div className="panel-type">{info ? pick(info.labels, lang) : node.type}</div>
        <div className="muted small-text">{info ? pick(info.description, lang) : ""}</div>
      </div>
      <label className="field">
        {t("label")}
        <input
          name="node-label"
          value={node.label ?? ""}
          disabled={readOnly}
          onChange={(e) => {
            const next = { ...node };
            if (e.target.value) next.label = e.target.value;
            else delete next.label;
            onChange(next);
          }}
        />
      </label>
      <div className="field muted small-text">{t("nodeId")}: <code>{node.id}</code>{info?.ports_help ? ` · ${t("portsHelp")}: ${pick(info.ports_help, lang)}` : ""}</div>
      {problems.length > 0 && (
        <ul className="panel-problems">
          {problems.map((p, i) => {
            if (describe) return (<li key={i} title={p.message}>{describe(p)} <code className="muted" title={p.path ?? ""}>{p.code}</code></li>);
            const where = titleAt(schema, p.path);
            return (<li key={i}>{where ? <strong>{where}: </strong> : null}{p.message} <code className="muted" title={p.path ?? ""}>{p.code}</code></li>);
          })}
        </ul>
      )}
      <datalist id="params-fields">
        {ruleContext.fields.map((f) => <option key={f.path} value={f.path}>{`${f.label} (${f.type})`}</option>)}
      </datalist>
      {hasFields && (
        <Form
          widgets={paramWidgets}
          key={`${node.id}:${node.type}`}
          schema={schema as RJSFSchema}
          uiSchema={uiSchema}
          formData={node.params ?? {}}
          validator={validator}
          fields={ruleFields}
          formContext={ruleContext}
          readonly={readOnly}
          liveValidate="onChange"
          translateString={translateString}
          transformErrors={(errors) => localizeErrors(errors, lang)}
          extraErrors={errorSchemaFor(problems) as never}
          showErrorList={false}
          noHtml5Validate
          onChange={(e) => {
            if (readOnly) return;
            const params = pruneDefaults((e.formData ?? {}) as Record<string, unknown>, node.params, schema);
            if (JSON.stringify(params) === JSON.stringify(node.params ?? {})) return;
            const next: FlowNode = { ...node, params };
            onChange(next);
          }}
        />
      )}
    </div>
  );
}

export const ParamsPanel = memo(ParamsPanelInner);
