// The worksheet (P4): actions that collection procedures propose, done one by one or in bulk.
import { useT } from "../i18n";

export function WorksheetPage() {
  const { t } = useT();
  return (
    <main className="page">
      <h1>{t("navWorksheet")}</h1>
    </main>
  );
}
