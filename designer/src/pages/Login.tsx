import { useContext, useState } from "react";
import { api, ApiError } from "../api";
import { LangContext, useT } from "../i18n";
import { LangSwitch } from "../App";
import type { User } from "../types";

export function Login({ onLogin }: { onLogin: (user: User) => void }) {
  const { t } = useT();
  const { lang, setLang } = useContext(LangContext);
  const [tenant, setTenant] = useState(() => localStorage.getItem("procedo.tenant") ?? "");
  const [email, setEmail] = useState(() => localStorage.getItem("procedo.email") ?? "");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  async function submit(event: React.FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError("");
    try {
      const user = await api.login(tenant.trim(), email.trim(), password);
      localStorage.setItem("procedo.tenant", tenant.trim());
      localStorage.setItem("procedo.email", email.trim());
      onLogin(user);
    } catch (e) {
      setError(e instanceof ApiError ? e.detail : String(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="login-page">
      <form className="login-card" onSubmit={submit}>
        <div className="login-brand"><span className="logo big">P</span><h1>Procedo</h1></div>
        <label>{t("tenant")}<input name="tenant" value={tenant} onChange={(e) => setTenant(e.target.value)} autoComplete="organization" required /></label>
        <label>{t("email")}<input name="email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} autoComplete="username" required /></label>
        <label>{t("password")}<input name="password" type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="current-password" required /></label>
        {error && <div className="error" role="alert">{error}</div>}
        <button className="primary" type="submit" disabled={busy}>{t("signIn")}</button>
        <div className="login-langs"><LangSwitch lang={lang} setLang={setLang} /></div>
      </form>
    </div>
  );
}
