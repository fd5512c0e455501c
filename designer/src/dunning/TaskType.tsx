// Task types (D2) in the inbox and the all-tasks list: a filter and a small tag.
import { useT, type TextKey } from "../i18n";
import { TASK_TYPES } from "./api";

export function typeLabelKey(kind: string): TextKey | null {
  return (TASK_TYPES as readonly string[]).includes(kind) ? (`dunType_${kind}` as TextKey) : null;
}

export function TaskTypeFilter({ value, onChange }: { value: string; onChange: (type: string) => void }) {
  const { t } = useT();
  return (
    <label>{t("dunTypeFilter")}
      <select name="type" value={value} onChange={(e) => onChange(e.target.value)} data-testid="task-type">
        <option value="">{t("dunAnyType")}</option>
        {TASK_TYPES.map((kind) => <option key={kind} value={kind}>{t(typeLabelKey(kind)!)}</option>)}
      </select>
    </label>
  );
}

/** The task's type, unless it is a general task (most are: no tag). */
export function TaskTypeTag({ kind }: { kind?: string }) {
  const { t } = useT();
  const key = kind && kind !== "general" ? typeLabelKey(kind) : null;
  return key ? <span className="tag" data-task-type={kind}>{t(key)}</span> : null;
}
