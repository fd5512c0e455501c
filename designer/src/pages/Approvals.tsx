// The approval list (D4): actions of workflows that need approval, approved or rejected one by one or in bulk.
import { useT } from "../i18n";

export function ApprovalsPage() {
  const { t } = useT();
  return (
    <main className="page">
      <h1>{t("navApprovals")}</h1>
    </main>
  );
}
