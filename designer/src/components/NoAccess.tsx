// What a non-administrator sees on an admin page: a plain refusal in their language.
import { useT } from "../i18n";

export function NoAccess({ testId }: { testId: string }) {
  const { t } = useT();
  return (
    <div className="page no-access" data-testid={testId}>
      <div className="card" role="alert">
        <h1>{t("admNoAccess")}</h1>
        <p className="muted">{t("admNoAccessHelp")}</p>
      </div>
    </div>
  );
}
