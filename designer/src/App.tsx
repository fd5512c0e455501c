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
import { UserContext } from "./user";

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
    else if (r.page === "flows" || (r.page === "home" && (user.access === "admin" || user.access === "designer"))) page = <FlowsPage />;
    else if (r.page === "home") page = <InboxPage />; // members start in their inbox
    else page = <NotFoundPage path={path} />;
  }

  const memberHome = path === "/" && user && user.access !== "admin" && user.access !== "designer";
  const section = path.startsWith("/inbox") || memberHome ? "inbox" : path.startsWith("/running") ? "running" : "flows";
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
                <a className={section === "flows" ? "active" : ""} href="/flows" onClick={(e) => { e.preventDefault(); navigate("/flows"); }}>{t("flows")}</a>
                <a className={section === "inbox" ? "active" : ""} href="/inbox" onClick={(e) => { e.preventDefault(); navigate("/inbox"); }}>{t("inbox")}</a>
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
    <div className="langs" role="group" aria-label="Language">
      {LANGS.map((l) => (
        <button key={l} className={l === lang ? "on" : ""} onClick={() => setLang(l)} aria-pressed={l === lang} data-lang={l}>
          {l.toUpperCase()}
        </button>
      ))}
    </div>
  );
}
