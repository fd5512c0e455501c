// The tenant's settings (administrators): email server and test send (E4), the office calendar,
// SMS, debtor portal, templates.
import { useState } from "react";
import { useT, type TextKey } from "../i18n";
import { useUser } from "../user";
import { CalendarSettingsSection } from "../operations/CalendarSettingsSection";
import { EmailSettingsSection } from "../operations/EmailSettingsSection";
import { PortalSettingsSection } from "../operations/PortalSettingsSection";
import { SmsSettingsSection } from "../operations/SmsSettingsSection";
import { TemplateLibrary } from "../operations/TemplateLibrary";

type Tab = "email" | "calendar" | "sms" | "portal" | "templates";
const TABS: { tab: Tab; text: TextKey }[] = [
  { tab: "email", text: "opsTabEmail" },
  { tab: "calendar", text: "calTab" },
  { tab: "sms", text: "smsTab" },
  { tab: "portal", text: "opsTabPortal" },
  { tab: "templates", text: "opsTabTemplates" },
];

export function SettingsPage() {
  const { t } = useT();
  const user = useUser();
  const [tab, setTab] = useState<Tab>("email");
  if (user && user.access !== "admin") {
    return <div className="page ops-page" data-testid="settings-page"><h1>{t("opsSettingsTitle")}</h1><p className="muted">{t("opsAdminsOnly")}</p></div>;
  }
  return (
    <div className="page ops-page" data-testid="settings-page">
      <div className="page-head"><h1>{t("opsSettingsTitle")}</h1></div>
      <div className="tabs ops-tabs" role="tablist">
        {TABS.map((x) => (
          <button key={x.tab} role="tab" aria-selected={tab === x.tab} className={tab === x.tab ? "on" : ""} data-tab={x.tab} onClick={() => setTab(x.tab)}>
            {t(x.text)}
          </button>
        ))}
      </div>
      {tab === "email" && <EmailSettingsSection />}
      {tab === "calendar" && <CalendarSettingsSection />}
      {tab === "sms" && <SmsSettingsSection />}
      {tab === "portal" && <PortalSettingsSection />}
      {tab === "templates" && <TemplateLibrary />}
    </div>
  );
}
