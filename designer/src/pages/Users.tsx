// The organisation's users (admin): add with a one-time password, change, deactivate, reset.
import { useCallback, useEffect, useRef, useState } from "react";
import { api, ApiError } from "../api";
import { accessKey, accessHelpKey, ACCESS_LEVELS, userError } from "../admin/users";
import { byLabel, roleLabel } from "../admin/roles";
import { NoAccess } from "../components/NoAccess";
import { useT } from "../i18n";
import type { TextKey } from "../i18n";
import type { Access, AdminRole, UserRow } from "../types";
import { useUser } from "../user";

type T = (key: TextKey, vars?: Record<string, string | number>) => string;
type Dialog = null | { mode: "add" } | { mode: "edit"; user: UserRow } | { mode: "password"; user: UserRow; password: string; fresh: boolean };

const who = (u: { name: string; email: string }) => u.name || u.email;
const matches = (u: UserRow, filter: string) => {
  const text = filter.trim().toLowerCase();
  return !text || u.name.toLowerCase().includes(text) || u.email.includes(text);
};

export function UsersPage() {
  const user = useUser();
  if (user?.access !== "admin") return <NoAccess testId="users-page" />;
  return <Users me={user.email} />;
}

function Users({ me }: { me: string }) {
  const { t, lang } = useT();
  const [users, setUsers] = useState<UserRow[] | null>(null);
  const [roles, setRoles] = useState<AdminRole[]>([]);
  const [error, setError] = useState("");
  const [notice, setNotice] = useState("");
  const [dialog, setDialog] = useState<Dialog>(null);
  const [filter, setFilter] = useState("");

  const load = useCallback(async () => {
    try {
      const [u, r] = await Promise.all([api.users(), api.roles()]);
      setUsers(u);
      setRoles(r);
    } catch (e) {
      setError(e instanceof ApiError ? e.detail : String(e));
    }
  }, []);
  useEffect(() => void load(), [load]);

  const label = (name: string) => {
    const role = roles.find((r) => r.name === name);
    return role ? roleLabel(role, lang) : name;
  };

  async function act(u: UserRow, change: () => Promise<unknown>, done: string) {
    setError("");
    setNotice("");
    let failure = "";
    try {
      await change();
    } catch (e) {
      failure = userError(t, e, u.email === me ? undefined : who(u));
    }
    await load(); // the table first, then the message about it
    if (failure) setError(failure);
    else setNotice(done);
  }

  function toggleActive(u: UserRow) {
    if (u.active) {
      if (!confirm(t("admDeactivateConfirm", { who: who(u) }))) return;
      void act(u, () => api.changeUser(u.id, { active: false }), t("admDeactivated", { who: who(u) }));
    } else void act(u, () => api.changeUser(u.id, { active: true }), t("admReactivated", { who: who(u) }));
  }

  async function reset(u: UserRow) {
    if (!confirm(t("admResetConfirm", { who: who(u) }))) return;
    setError("");
    setNotice("");
    try {
      const done = await api.resetPassword(u.id);
      setDialog({ mode: "password", user: done.user, password: done.password, fresh: false });
    } catch (e) {
      setError(userError(t, e));
    }
  }

  const created = (value: string) => {
    const d = new Date(value);
    return Number.isNaN(d.getTime()) ? value : d.toLocaleDateString(lang, { dateStyle: "medium" });
  };

  return (
    <div className="page admin-page users-page" data-testid="users-page">
      <div className="page-head">
        <h1>{t("navUsers")}</h1>
        <div className="spacer" />
        <button className="primary" onClick={() => setDialog({ mode: "add" })}>{t("admAddUser")}</button>
      </div>
      <p className="muted page-help">{t("admUsersHelp")}</p>
      <input type="search" className="user-filter" value={filter} placeholder={t("admFilterUsers")} aria-label={t("admFilterUsers")} onChange={(e) => setFilter(e.target.value)} />
      {error && <div className="error-box" role="alert">{error}</div>}
      {notice && <div className="notice-box" role="status">{notice}</div>}
      {users === null ? (
        <div className="muted">{t("loading")}</div>
      ) : (
        <table className="table users-table">
          <thead>
            <tr><th>{t("name")}</th><th>{t("email")}</th><th>{t("admAccess")}</th><th>{t("status")}</th><th>{t("admRoles")}</th><th>{t("admAdded")}</th><th /></tr>
          </thead>
          <tbody>
            {users.filter((u) => matches(u, filter)).map((u) => (
              <tr key={u.id} data-user={u.email} className={u.active ? "" : "inactive-row"}>
                <td>
                  <strong>{u.name || "—"}</strong>
                  {u.email === me && <span className="muted"> ({t("admYou")})</span>}
                </td>
                <td>{u.email}</td>
                <td><span className="badge" title={t(accessHelpKey(u.access))}>{t(accessKey(u.access))}</span></td>
                <td>{u.active ? <span className="badge ok">{t("admActive")}</span> : <span className="badge bad">{t("admInactive")}</span>}</td>
                <td className="user-roles">
                  {u.roles.map((r) => <span key={r} className="chip small">{label(r)}</span>)}
                  {u.subject_roles > 0 && <span className="muted small-text"> {t("admPerSubjectCount", { n: u.subject_roles })}</span>}
                  {!u.roles.length && !u.subject_roles && <span className="muted">—</span>}
                </td>
                <td className="muted">{created(u.created_at)}</td>
                <td>
                  <div className="row-actions">
                    <button className="small" onClick={() => setDialog({ mode: "edit", user: u })}>{t("admEdit")}</button>
                    <button className="small" onClick={() => reset(u)}>{t("admResetPassword")}</button>
                    <button className={`small ${u.active ? "danger" : ""}`} onClick={() => toggleActive(u)}>{u.active ? t("admDeactivate") : t("admReactivate")}</button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {dialog?.mode === "password" ? (
        <PasswordDialog t={t} user={dialog.user} password={dialog.password} fresh={dialog.fresh} onClose={() => setDialog(null)} />
      ) : dialog ? (
        <UserDialog
          t={t}
          user={dialog.mode === "edit" ? dialog.user : null}
          me={me}
          roles={byLabel(roles, lang)}
          label={(r) => roleLabel(r, lang)}
          onClose={() => setDialog(null)}
          onAdded={async (u, password) => {
            setDialog({ mode: "password", user: u, password, fresh: true });
            await load();
          }}
          onSaved={async (u) => {
            setDialog(null);
            setError("");
            setNotice(t("admUserSaved", { who: who(u) }));
            await load();
          }}
        />
      ) : null}
    </div>
  );
}

function UserDialog(props: {
  t: T;
  user: UserRow | null;
  me: string;
  roles: AdminRole[];
  label: (r: AdminRole) => string;
  onClose: () => void;
  onAdded: (u: UserRow, password: string) => void;
  onSaved: (u: UserRow) => void;
}) {
  const { t, user, me } = props;
  const [email, setEmail] = useState("");
  const [name, setName] = useState(user?.name ?? "");
  const [access, setAccess] = useState<Access>(user?.access ?? "member");
  const [held, setHeld] = useState<string[]>(user?.roles ?? []);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setError("");
    if (!user && !/^[^@\s]+@[^@\s]+$/.test(email.trim())) return setError(t("admEmailInvalid"));
    setBusy(true);
    try {
      if (!user) {
        const made = await api.addUser(email.trim(), name.trim(), access);
        for (const role of held) await api.addMember(role, made.user.email);
        props.onAdded({ ...made.user, roles: held }, made.password);
      } else {
        const change: { name?: string; access?: Access } = {};
        if (name.trim() !== user.name) change.name = name.trim();
        if (access !== user.access) change.access = access;
        const gained = held.filter((r) => !user.roles.includes(r));
        const lost = user.roles.filter((r) => !held.includes(r));
        if (change.name === undefined && change.access === undefined && !gained.length && !lost.length) return props.onClose();
        const saved = change.name !== undefined || change.access !== undefined ? await api.changeUser(user.id, change) : user;
        // Office-wide memberships only; members for one client are set on the roles page.
        for (const role of gained) await api.addMember(role, user.email);
        for (const role of lost) await api.removeMember(role, user.email);
        props.onSaved(saved);
      }
    } catch (err) {
      setError(userError(t, err, user && user.email !== me ? who(user) : undefined));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="modal-backdrop" onClick={props.onClose}>
      <form className="modal" onClick={(e) => e.stopPropagation()} onSubmit={submit} data-testid="user-dialog" noValidate>
        <h2>{user ? t("admEditUser", { who: who(user) }) : t("admAddUser")}</h2>
        {!user && (
          <label>
            {t("email")}
            <input name="email" type="email" value={email} maxLength={254} onChange={(e) => setEmail(e.target.value)} autoFocus />
          </label>
        )}
        <label>
          {t("name")}
          <input name="name" value={name} maxLength={200} onChange={(e) => setName(e.target.value)} autoFocus={!!user} />
        </label>
        <fieldset className="access-choice">
          <legend>{t("admAccess")}</legend>
          {ACCESS_LEVELS.map((level) => (
            <label key={level} className="radio">
              <input type="radio" name="access" value={level} checked={access === level} onChange={() => setAccess(level)} />
              <span><strong>{t(accessKey(level))}</strong> <span className="muted small-text">{t(accessHelpKey(level))}</span></span>
            </label>
          ))}
        </fieldset>
        {props.roles.length > 0 && (
          <fieldset className="role-choice">
            <legend>{t("admRoles")}</legend>
            {props.roles.map((r) => (
              <label key={r.name} className="check">
                <input
                  type="checkbox"
                  name="role"
                  value={r.name}
                  checked={held.includes(r.name)}
                  onChange={(e) => setHeld(e.target.checked ? [...held, r.name] : held.filter((x) => x !== r.name))}
                />
                {props.label(r)}
              </label>
            ))}
          </fieldset>
        )}
        {error && <div className="error" role="alert">{error}</div>}
        <div className="modal-actions">
          <button type="button" onClick={props.onClose}>{t("cancel")}</button>
          <button type="submit" className="primary" disabled={busy}>{user ? t("admSaveChanges") : t("admAddUser")}</button>
        </div>
      </form>
    </div>
  );
}

/** The one-time password, shown once, with a copy button. */
function PasswordDialog({ t, user, password, fresh, onClose }: { t: T; user: UserRow; password: string; fresh: boolean; onClose: () => void }) {
  const [copied, setCopied] = useState(false);
  const field = useRef<HTMLInputElement>(null);
  async function copy() {
    try {
      await navigator.clipboard.writeText(password);
    } catch {
      field.current?.select(); // no clipboard permission: select it for Ctrl+C
      document.execCommand("copy");
    }
    setCopied(true);
  }
  return (
    <div className="modal-backdrop">
      <div className="modal" role="dialog" aria-modal="true" data-testid="password-dialog">
        <h2>{fresh ? t("admUserAdded", { who: who(user) }) : t("admPasswordReset", { who: who(user) })}</h2>
        <label>
          {t("admOneTimePassword")}
          <div className="password-row">
            <input ref={field} readOnly value={password} data-testid="one-time-password" data-i18n-skip onFocus={(e) => e.target.select()} />
            <button type="button" onClick={copy}>{copied ? t("admCopied") : t("admCopy")}</button>
          </div>
        </label>
        <p className="muted">{t("admShownOnce", { who: who(user) })}</p>
        <div className="modal-actions">
          <button className="primary" onClick={onClose}>{t("admDone")}</button>
        </div>
      </div>
    </div>
  );
}
