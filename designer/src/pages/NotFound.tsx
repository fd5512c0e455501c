import { useT } from "../i18n";
import { navigate } from "../router";

export function NotFoundPage({ path }: { path: string }) {
  const { t } = useT();
  return (
    <div className="page" data-testid="not-found">
      <h1>{t("notFound")}</h1>
      <p className="muted">{t("notFoundHelp", { path })}</p>
      <button className="primary" onClick={() => navigate("/")}>{t("flows")}</button>
    </div>
  );
}
