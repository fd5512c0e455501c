// The form field for a param that names something: a role, a user, a status, a field,
// a template. The param declares which ("x-picker" in the node type's module); this
// field offers the list with labels and technical names, and where a value outside the
// list makes sense (a new role, a variable) also a text box.
import { useEffect, useState } from "react";
import type { FieldProps } from "@rjsf/utils";
import { useT } from "../../i18n";
import { allowsOther, choicesFor, optionText, type Choice, type PickerKind, type PickerSources } from "./choices";
import { loadSources } from "./sources";

const OTHER = "\u0000other";

function useSources(kind: PickerKind, subjectType: string): PickerSources | null {
  const [sources, setSources] = useState<PickerSources | null>(null);
  useEffect(() => {
    let live = true;
    void loadSources(kind, subjectType).then((s) => live && setSources(s));
    return () => {
      live = false;
    };
  }, [kind, subjectType]);
  return sources;
}

export function PickerField(props: FieldProps) {
  const { t, lang } = useT();
  const options = (props.uiSchema?.["ui:options"] ?? {}) as { picker?: PickerKind; fieldTypes?: string[] };
  const kind = options.picker ?? "role";
  const ctx = (props.registry.formContext ?? {}) as { subjectType?: string };
  const sources = useSources(kind, ctx.subjectType ?? "");
  const value = typeof props.formData === "string" ? props.formData : "";
  const choices: Choice[] = sources ? choicesFor(kind, sources, lang, options.fieldTypes) : [];
  const other = sources !== null && allowsOther(kind, choices);
  const listed = choices.some((c) => c.value === value);
  const [typing, setTyping] = useState(false);
  const id = props.fieldPathId.$id;
  const editable = !(props.readonly || props.disabled);
  const set = (next: string) => props.onChange((next === "" ? undefined : next) as never, props.fieldPathId.path);
  const title = props.schema.title ?? props.name;
  const showText = sources !== null && (typing || (other && choices.length === 0));

  return (
    <div className="form-group field picker-field" data-picker={kind}>
      <label className="control-label" htmlFor={id}>
        {title}
        {props.required ? <span className="required">*</span> : null}
      </label>
      {props.schema.description && <div className="field-description">{props.schema.description}</div>}
      {sources === null ? (
        <div className="muted small-text">{t("pickLoading")}</div>
      ) : showText ? (
        <div className="picker-row">
          <input
            id={id}
            className="form-control"
            value={value}
            disabled={!editable}
            placeholder={kind === "role" ? t("pickNewRole") : kind === "event" ? t("pickNewEvent") : t("pickTypeName")}
            onChange={(e) => set(e.target.value)}
            onBlur={() => props.onBlur(id, value)}
          />
          {choices.length > 0 && editable && (
            <button type="button" className="small" onClick={() => setTyping(false)}>
              {t("pickFromList")}
            </button>
          )}
        </div>
      ) : (
        <select
          id={id}
          className="form-control"
          value={value}
          disabled={!editable}
          onChange={(e) => {
            if (e.target.value === OTHER) setTyping(true);
            else set(e.target.value);
          }}
          onBlur={() => props.onBlur(id, value)}
        >
          <option value="">{t("pickChoose")}</option>
          {choices.map((c) => (
            <option key={c.value} value={c.value}>
              {optionText(c)}
            </option>
          ))}
          {value && !listed && <option value={value}>{t("pickNotListed", { name: value })}</option>}
          {other && <option value={OTHER}>{t("pickOther")}</option>}
        </select>
      )}
      {kind === "status" && sources !== null && choices.length === 0 && <div className="muted small-text">{t("pickNoStatuses")}</div>}
    </div>
  );
}

export const pickerFields = { picker: PickerField };
