// The flow-level settings: name, description, trigger and stop rule. The trigger and
// stop_when forms come from the flow format's own JSON Schema (docs/flow.schema.json).
import { useMemo } from "react";
import Form from "@rjsf/core";
import type { RJSFSchema } from "@rjsf/utils";
import flowSchema from "../../../docs/flow.schema.json";
import { useT } from "../i18n";
import { stableJson } from "../flow/diff";
import { localizeErrors, pruneDefaults, uiSchemaFor } from "../flow/schema";
import { formStrings } from "../flow/formStrings";
import { validator } from "../flow/validator";
import { flowSettingsSchema } from "../flow/declared";
import { ruleFields as ruleFieldsForFlow } from "./ParamsPanel";
import type { RuleContext } from "./RuleBuilder";
import type { Flow, JsonSchema } from "../types";

export function FlowSettings({ meta, readOnly, ruleContext, onChange, hint }: { meta: Flow; readOnly: boolean; ruleContext: RuleContext; onChange: (m: Flow) => void; hint: string }) {
  const { t, lang } = useT();
  // The flow-level form comes from the flow format's own JSON Schema (docs/flow.schema.json).
  // The triggers' fields in the order the format declares them, not the file's sorted one.
  // Its words in the user's language come from flow/declared.ts (the format's schema is English).
  const schema = useMemo(() => flowSettingsSchema(flowSchema as JsonSchema, lang), [lang]);
  const translateString = useMemo(() => formStrings(lang), [lang]);
  const uiSchema = useMemo(() => ({ ...uiSchemaFor(schema), "ui:submitButtonOptions": { norender: true } }), [schema]);
  const formData = useMemo(() => {
    const d: Record<string, unknown> = { trigger: meta.trigger };
    if ("stop_when" in meta) d.stop_when = meta.stop_when;
    return d;
  }, [meta]);
  return (
    <div className="params-panel" data-testid="flow-settings">
      <div className="muted small-text hint">{hint}</div>
      <div className="panel-head"><div className="panel-type">{t("flowSettings")}</div></div>
      <label className="field">{t("name")}<input name="flow-name" value={meta.name} disabled={readOnly} onChange={(e) => onChange({ ...meta, name: e.target.value })} /></label>
      <label className="field">{t("description")}<textarea name="flow-description" rows={3} value={meta.description ?? ""} disabled={readOnly} onChange={(e) => { const m: Flow = { ...meta, description: e.target.value }; if (!e.target.value) delete (m as { description?: string }).description; onChange(m); }} /></label>
      <div className="field muted small-text">{t("subjectType")}: <code>{meta.subject_type}</code></div>
      <Form
        schema={schema as RJSFSchema}
        uiSchema={uiSchema}
        formData={formData}
        validator={validator}
        readonly={readOnly}
        formContext={ruleContext}
        fields={ruleFieldsForFlow}
        showErrorList={false}
        translateString={translateString}
        transformErrors={(errors) => localizeErrors(errors, lang)}
        noHtml5Validate
        onChange={(e) => {
          if (readOnly) return;
          const data = pruneDefaults((e.formData ?? {}) as Record<string, unknown>, formData, schema);
          const next: Flow = { ...meta, trigger: data.trigger as Flow["trigger"] };
          if (data.stop_when !== undefined && data.stop_when !== null) next.stop_when = data.stop_when as Flow["stop_when"];
          else if ("stop_when" in meta && meta.stop_when === null) next.stop_when = null;
          else delete next.stop_when;
          if (stableJson(next) !== stableJson(meta)) onChange(next);
        }}
      />
    </div>
  );
}


