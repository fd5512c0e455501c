import { useCallback, useEffect, useMemo, useState } from "react";
import { api, setUnauthorizedHandler } from "./api";
import { LANGS, LangContext, storedLang, translate } from "./i18n";
import { navigate, useLocation } from "./router";
import { route } from "./routes";
import type { Lang, User } from "./types";
import { Login } from "./pages/Login";
import { FlowsPage } from "./pages/Flows";
import { EditorPage } from "./pages/Editor";
import { InboxPage } from "./pages/Inbox";
import { RunningPage } from "./pages/Running";
import { NotFoundPage } from "./pages/NotFound";
import { SubjectsPage } from "./pages/Subjects";
import { SubjectPage } from "./pages/Subject";
import { AllTasksPage } from "./pages/Tasks";
import { InstancesPage } from "./pages/Instances";
import { RolesPage } from "./pages/Roles";
import { UsersPage } from "./pages/Users";
import { SchedulesPage } from "./pages/Schedules";
import { OutboxPage } from "./pages/Outbox";
import { SettingsPage } from "./pages/Settings";
import { WorksheetPage } from "./pages/Worksheet";
import { ApprovalsPage } from "./pages/Approvals";
import { ProcedureRegistrationsPage } from "./pages/ProcedureRegistrations";
import { UserContext } from "./user";
import type { TextKey } from "./i18n";

/** The top bar's sections; "manage" ones sit in one menu so the bar never wraps in nl/de. */
const MAIN: { path: string; text: TextKey; staff?: boolean }[] = [
  { path: "/flows", text: "flows", staff: true },
  { path: "/inbox", text: "inbox" },
  { path: "/subjects", text: "navSubjects" },
  { path: "/tasks", text: "navTasks", staff: true },
  { path: "/instances", text: "navInstances", staff: true },
  { path: "/worksheet", text: "navWorksheet" }, // credit controllers are members
  { path: "/approvals", text: "navApprovals", staff: true },
];
const MANAGE: { path: string; text: TextKey }[] = [
  { path: "/roles", text: "navRoles" },
  { path: "/users", text: "navUsers" },
  { path: "/schedules", text: "navSchedules" },
  { path: "/procedures", text: "navProcedures" },
  { path: "/outbox", text: "navOutbox" },
  { path: "/settings", text: "navSettings" },
];

function go(e: React.MouseEvent, to: string) {
  e.preventDefault();
  navigate(to);
}

export function App() {
  const [lang, setLangState] = useState<Lang>(storedLang);
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const { path } = useLocation();
  const setLang = useCallback((l: Lang) => {
    localStorage.setItem("procedo.lang", l);
    document.documentElement.lang = l;
    setLangState(l);
  }, []);
  const langValue = useMemo(() => ({ lang, setLang }), [lang, setLang]);

  useEffect(() => {
    setUnauthorizedHandler(() => setUser(null));
    api.me().then(setUser, () => setUser(null));
  }, []);

  const t = (key: Parameters<typeof translate>[1]) => translate(lang, key);
  let page: React.ReactNode;
  if (user === undefined) page = <div className="centered muted">{t("loading")}</div>;
  else if (user === null || path === "/login") page = <Login onLogin={(u) => { setUser(u); if (path === "/login") navigate("/", true); }} />;
  else {
    const r = route(path);
    if (r.page === "editor") page = <EditorPage key={`${r.key}@${r.version ?? "draft"}`} flowKey={r.key} version={r.version} />;
    else if (r.page === "running") page = <RunningPage key={r.key} flowKey={r.key} />;
    else if (r.page === "inbox") page = <InboxPage />;
    else if (r.page === "subjects") page = <SubjectsPage />;
    else if (r.page === "subject") page = <SubjectPage key={r.id} id={r.id} />;
    else if (r.page === "tasks") page = <AllTasksPage />;
    else if (r.page === "instances") page = <InstancesPage />;
    else if (r.page === "roles") page = <RolesPage />;
    else if (r.page === "users") page = <UsersPage />;
    else if (r.page === "schedules") page = <SchedulesPage />;
    else if (r.page === "outbox") page = <OutboxPage />;
    else if (r.page === "settings") page = <SettingsPage />;
    else if (r.page === "worksheet") page = <WorksheetPage />;
    else if (r.page === "approvals") page = <ApprovalsPage />;
    else if (r.page === "procedures") page = <ProcedureRegistrationsPage />;
    else if (r.page === "flows" || (r.page === "home" && (user.access === "admin" || user.access === "designer"))) page = <FlowsPage />;
    else if (r.page === "home") page = <InboxPage />; // members start in their inbox
    else page = <NotFoundPage path={path} />;
  }

  const memberHome = path === "/" && user && user.access !== "admin" && user.access !== "designer";
  const staff = !!user && (user.access === "admin" || user.access === "designer");
  const current = memberHome ? "/inbox" : path === "/" ? "/flows" : path.startsWith("/running") ? "/instances" : "/" + (path.split("/")[1] ?? "");
  return (
    <LangContext.Provider value={langValue}>
      <UserContext.Provider value={user ?? null}>
        <div className="app">
          {user && (
            <header className="topbar">
              <a className="brand" href="/" onClick={(e) => { e.preventDefault(); navigate("/"); }}>
                <span className="logo">P</span> Procedo
              </a>
              <nav>
                {MAIN.filter((m) => staff || !m.staff).map((m) => (
                  <a key={m.path} className={current === m.path ? "active" : ""} href={m.path} onClick={(e) => go(e, m.path)}>{t(m.text)}</a>
                ))}
                {user.access === "admin" && (
                  <details className="manage">
                    <summary className={MANAGE.some((m) => m.path === current) ? "active" : ""}>{t("navManage")}</summary>
                    <div className="menu" role="menu">
                      {MANAGE.map((m) => (
                        <a key={m.path} role="menuitem" className={current === m.path ? "active" : ""} href={m.path} onClick={(e) => { (e.currentTarget.closest("details") as HTMLDetailsElement).open = false; go(e, m.path); }}>{t(m.text)}</a>
                      ))}
                    </div>
                  </details>
                )}
              </nav>
              <div className="spacer" />
              <LangSwitch lang={lang} setLang={setLang} />
              <span className="who" title={`${user.email} · ${user.access} · ${user.tenant}`}>{user.name || user.email}</span>
              <button className="ghost" onClick={async () => { await api.logout().catch(() => undefined); setUser(null); navigate("/login"); }}>{t("signOut")}</button>
            </header>
          )}
          <main className="content">{page}</main>
        </div>
      </UserContext.Provider>
    </LangContext.Provider>
  );
}

export function LangSwitch({ lang, setLang }: { lang: Lang; setLang: (l: Lang) => void }) {
  return (
    <div className="langs" role="group" aria-label={translate(lang, "language")}>
      {LANGS.map((l) => (
        <button key={l} className={l === lang ? "on" : ""} onClick={() => setLang(l)} aria-pressed={l === lang} data-lang={l}>
          {l.toUpperCase()}
        </button>
      ))}
    </div>
  );
}
