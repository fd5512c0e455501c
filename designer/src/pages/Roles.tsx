// Roles and their members (admin): office-wide, and per client or debtor (K1).
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { api, ApiError } from "../api";
import { byLabel, holdingsFor, officeMembers, roleLabel, subjectTitle, subjectsWithOwnMembers } from "../admin/roles";
import { NoAccess } from "../components/NoAccess";
import { useT } from "../i18n";
import type { TextKey } from "../i18n";
import type { AdminRole, RoleMember, SubjectRef, UserRow } from "../types";
import { useUser } from "../user";

type Dialog = null | { mode: "create" } | { mode: "rename"; role: AdminRole };
type T = (key: TextKey, vars?: Record<string, string | number>) => string;

const SUBJECT_TYPES: Record<string, TextKey> = {
  client: "admSubjectTypeClient",
  debtor: "admSubjectTypeDebtor",
  invoice: "admSubjectTypeInvoice",
};

const who = (m: { name: string; email: string }) => m.name || m.email;
const detail = (e: unknown) => (e instanceof ApiError ? e.detail : String(e));

export function RolesPage() {
  const user = useUser();
  if (user?.access !== "admin") return <NoAccess testId="roles-page" />;
  return <Roles />;
}

function Roles() {
  const { t, lang } = useT();
  const [unsorted, setRoles] = useState<AdminRole[] | null>(null);
  const roles = useMemo(() => (unsorted ? byLabel(unsorted, lang) : null), [unsorted, lang]);
  const [users, setUsers] = useState<UserRow[]>([]);
  const [error, setError] = useState("");
  const [notice, setNotice] = useState("");
  const [dialog, setDialog] = useState<Dialog>(null);
  const [subject, setSubject] = useState<SubjectRef | null>(null);

  const load = useCallback(async () => {
    try {
      const [r, u] = await Promise.all([api.roles(), api.users()]);
      setRoles(r);
      setUsers(u);
    } catch (e) {
      setError(detail(e));
    }
  }, []);
  useEffect(() => void load(), [load]);

  /** Run a change, then show its notice or its error and reload. */
  async function act(change: () => Promise<unknown>, done: string, refused?: (e: ApiError) => string) {
    setError("");
    setNotice("");
    let failure = "";
    try {
      await change();
    } catch (e) {
      failure = e instanceof ApiError && refused ? refused(e) : t("admFailed", { detail: detail(e) });
    }
    await load(); // the table first, then the message about it
    if (failure) setError(failure);
    else setNotice(done);
  }

  const label = (role: AdminRole) => roleLabel(role, lang);

  async function remove(role: AdminRole) {
    setError("");
    setNotice("");
    try {
      const use = await api.roleUse(role.name);
      const needs = [
        use.flows.length ? t("admNeededByFlows", { flows: use.flows.join(", ") }) : "",
        use.open_tasks ? t("admNeededByTasks", { n: use.open_tasks }) : "",
      ].filter(Boolean);
      if (needs.length) return setError(`${t("admRoleStillNeeded", { role: label(role) })} ${needs.join(" ")}`);
    } catch (e) {
      return setError(t("admFailed", { detail: detail(e) }));
    }
    if (!confirm(t("admDeleteRole", { role: label(role) }))) return;
    await act(() => api.deleteRole(role.name), t("admRoleDeleted", { role: label(role) }), (e) =>
      e.status === 409 ? `${t("admRoleStillNeeded", { role: label(role) })} ${e.detail}` : t("admFailed", { detail: e.detail }),
    );
  }

  const addMember = (role: AdminRole, member: UserRow, subjectId?: string) =>
    act(() => api.addMember(role.name, member.email, subjectId), t("admMemberAdded", { who: who(member), role: label(role) }));
  const removeMember = (role: AdminRole, member: RoleMember) =>
    act(
      () => api.removeMember(role.name, member.email, member.subject_id ?? undefined),
      t("admMemberRemoved", { who: who(member), role: label(role) }),
    );

  return (
    <div className="page admin-page roles-page" data-testid="roles-page">
      <div className="page-head">
        <h1>{t("navRoles")}</h1>
        <div className="spacer" />
        <button className="primary" onClick={() => setDialog({ mode: "create" })}>{t("admNewRole")}</button>
      </div>
      <p className="muted page-help">{t("admRolesHelp")}</p>
      {error && <div className="error-box" role="alert">{error}</div>}
      {notice && <div className="notice-box" role="status">{notice}</div>}
      {roles === null ? (
        <div className="muted">{t("loading")}</div>
      ) : (
        <>
          <table className="table roles-table">
            <thead>
              <tr><th>{t("admRole")}</th><th>{t("admMembers")}</th><th /></tr>
            </thead>
            <tbody>
              {roles.map((role) => {
                const office = officeMembers(role);
                const perSubject = role.members.length - office.length;
                return (
                  <tr key={role.name} data-role={role.name}>
                    <td className="role-cell">
                      <strong>{label(role)}</strong>
                      <div className="muted small-text">
                        <code>{role.name}</code> {role.labels?.en !== undefined && <span className="badge readonly">{t("admStandardRole")}</span>}
                      </div>
                    </td>
                    <td>
                      <div className="member-count muted small-text">
                        {office.length === 1 ? t("admOneMember") : t("admMemberCount", { n: office.length })}
                        {perSubject > 0 && ` · ${t("admPerSubjectCount", { n: perSubject })}`}
                      </div>
                      <Members t={t} members={office} onRemove={(m) => removeMember(role, m)} role={label(role)} />
                      <UserPicker t={t} users={users} taken={office} onPick={(u) => addMember(role, u)} />
                    </td>
                    <td className="row-actions-cell">
                      <div className="row-actions">
                        <button className="small" onClick={() => setDialog({ mode: "rename", role })}>{t("admRenameRole")}</button>
                        <button className="small danger" onClick={() => remove(role)}>{t("delete")}</button>
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <PerSubject
            t={t}
            roles={roles}
            users={users}
            subject={subject}
            onSubject={setSubject}
            label={label}
            onAdd={(role, u) => subject && addMember(role, u, subject.id)}
            onRemove={removeMember}
          />
        </>
      )}
      {dialog && (
        <RoleDialog
          t={t}
          dialog={dialog}
          label={dialog.mode === "rename" ? label(dialog.role) : ""}
          onClose={() => setDialog(null)}
          onDone={async (message) => {
            setDialog(null);
            setError("");
            setNotice(message);
            await load();
          }}
        />
      )}
    </div>
  );
}

function Members({ t, members, onRemove, role }: { t: T; members: RoleMember[]; onRemove: (m: RoleMember) => void; role: string }) {
  if (!members.length) return <div className="muted small-text">{t("admNoMembers")}</div>;
  return (
    <ul className="chips">
      {members.map((m) => (
        <li key={`${m.email}@${m.subject_id ?? ""}`} className={`chip ${m.active ? "" : "inactive"}`} title={m.email} data-member={m.email}>
          {who(m)}
          {!m.active && <span className="muted"> ({t("admInactive")})</span>}
          <button className="chip-remove" aria-label={t("admRemoveMember", { who: who(m), role })} title={t("admRemoveMember", { who: who(m), role })} onClick={() => onRemove(m)}>×</button>
        </li>
      ))}
    </ul>
  );
}

/** Add a member: the tenant's active users not in the list yet. */
function UserPicker({ t, users, taken, onPick }: { t: T; users: UserRow[]; taken: RoleMember[]; onPick: (u: UserRow) => void }) {
  const free = users.filter((u) => u.active && u.access !== "partner" && !taken.some((m) => m.email === u.email));
  if (!free.length) return null;
  return (
    <select
      className="user-picker"
      value=""
      aria-label={t("admAddMember")}
      onChange={(e) => {
        const picked = free.find((u) => u.email === e.target.value);
        if (picked) onPick(picked);
      }}
    >
      <option value="">{t("admAddMember")}</option>
      {free.map((u) => (
        <option key={u.email} value={u.email}>{u.name ? `${u.name} (${u.email})` : u.email}</option>
      ))}
    </select>
  );
}

function SubjectType({ t, type }: { t: T; type: string }) {
  const key = SUBJECT_TYPES[type];
  return <span className="badge readonly">{key ? t(key) : type}</span>;
}

/** Choose a client or debtor; see and change who holds each role for it. */
function PerSubject(props: {
  t: T;
  roles: AdminRole[];
  users: UserRow[];
  subject: SubjectRef | null;
  onSubject: (s: SubjectRef | null) => void;
  label: (r: AdminRole) => string;
  onAdd: (role: AdminRole, u: UserRow) => void;
  onRemove: (role: AdminRole, m: RoleMember) => void;
}) {
  const { t, roles, users, subject, onSubject, label } = props;
  const withOwn = useMemo(() => subjectsWithOwnMembers(roles), [roles]);
  return (
    <section className="card per-subject" data-testid="per-subject">
      <h2>{t("admPerSubject")}</h2>
      {subject === null ? (
        <>
          <p className="muted">{t("admPerSubjectHelp")}</p>
          <SubjectSearch t={t} onPick={onSubject} />
          {withOwn.length > 0 && (
            <div className="with-own">
              <span className="muted small-text">{t("admWithOwnMembers")}</span>{" "}
              {withOwn.map((s) => (
                <button key={s.id} className="small" onClick={() => onSubject(s)}>{subjectTitle(s)}</button>
              ))}
            </div>
          )}
        </>
      ) : (
        <>
          <div className="subject-chosen">
            <strong data-testid="chosen-subject">{t("admForSubject", { subject: subjectTitle(subject) })}</strong>
            <SubjectType t={t} type={subject.type} />
            <div className="spacer" />
            <button className="small" onClick={() => onSubject(null)}>{t("admChangeSubject")}</button>
          </div>
          <table className="table holdings-table">
            <thead>
              <tr><th>{t("admRole")}</th><th>{t("admOfficeMembers")}</th><th>{t("admSubjectMembers")}</th></tr>
            </thead>
            <tbody>
              {holdingsFor(roles, subject.id).map((h) => (
                <tr key={h.role.name} data-role={h.role.name}>
                  <td><strong>{label(h.role)}</strong></td>
                  <td className={h.own.some((m) => m.active) ? "overridden" : ""}>
                    {h.office.length ? h.office.map(who).join(", ") : <span className="muted">—</span>}
                  </td>
                  <td>
                    {h.own.length > 0 && <Members t={t} members={h.own} onRemove={(m) => props.onRemove(h.role, m)} role={label(h.role)} />}
                    {h.own.some((m) => m.active) ? (
                      <div className="small-text ok-text">{t("admTakesOver")}</div>
                    ) : (
                      <div className="small-text muted">{t("admFromOffice")}</div>
                    )}
                    <UserPicker t={t} users={users} taken={h.own} onPick={(u) => props.onAdd(h.role, u)} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

function SubjectSearch({ t, onPick }: { t: T; onPick: (s: SubjectRef) => void }) {
  const [q, setQ] = useState("");
  const [found, setFound] = useState<SubjectRef[] | null>(null);
  const asked = useRef(0);
  useEffect(() => {
    const text = q.trim();
    if (!text) {
      setFound(null);
      return;
    }
    const ask = ++asked.current;
    const timer = setTimeout(() => {
      api.findSubjects(text).then(
        (rows) => ask === asked.current && setFound(rows),
        () => ask === asked.current && setFound([]),
      );
    }, 200); // one search per pause in typing
    return () => clearTimeout(timer);
  }, [q]);
  return (
    <div className="subject-search">
      <input type="search" value={q} placeholder={t("admFindSubject")} aria-label={t("admFindSubject")} onChange={(e) => setQ(e.target.value)} data-testid="subject-search" />
      {found !== null && (
        <ul className="search-results" role="listbox">
          {found.length === 0 && <li className="muted">{t("admNoSubjectFound", { q: q.trim() })}</li>}
          {found.map((s) => (
            <li key={s.id} role="option" aria-selected={false}>
              <button className="ghost" onClick={() => onPick(s)}>
                <SubjectType t={t} type={s.type} /> <strong>{s.key}</strong> {s.name && <span>{s.name}</span>}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function RoleDialog({ t, dialog, label, onClose, onDone }: { t: T; dialog: Exclude<Dialog, null>; label: string; onClose: () => void; onDone: (message: string) => void }) {
  const renaming = dialog.mode === "rename" ? dialog.role : null;
  const [name, setName] = useState(renaming?.name ?? "");
  const [text, setText] = useState(label);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    if (!name.trim()) return setError(t("admRoleNameMissing"));
    setBusy(true);
    setError("");
    try {
      if (!renaming) {
        await api.createRole(name.trim(), text.trim());
        onDone(t("admRoleCreated", { role: text.trim() || name.trim() }));
      } else {
        const change: { name?: string; label?: string } = {};
        if (name.trim() !== renaming.name) change.name = name.trim();
        if (text.trim() && text.trim() !== label) change.label = text.trim();
        // A renamed standard role loses its labels per language: keep the one shown.
        if (change.name && renaming.labels?.en !== undefined && text.trim()) change.label = text.trim();
        if (!change.name && !change.label) return onClose();
        const done = await api.changeRole(renaming.name, change);
        const publish = done.to_publish.length ? ` ${t("admRenameToPublish", { flows: done.to_publish.join(", ") })}` : "";
        onDone(t("admRoleRenamed") + publish);
      }
    } catch (err) {
      setError(err instanceof ApiError && err.status === 409 ? t("admRoleTaken") : t("admFailed", { detail: detail(err) }));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="modal-backdrop" onClick={onClose}>
      <form className="modal" onClick={(e) => e.stopPropagation()} onSubmit={submit} data-testid="role-dialog">
        <h2>{renaming ? t("admRenameRoleTitle", { role: label }) : t("admNewRole")}</h2>
        <label>
          {t("admRoleLabel")}
          <input name="label" value={text} maxLength={200} onChange={(e) => setText(e.target.value)} autoFocus />
        </label>
        <label>
          {t("admRoleName")}
          <input name="name" value={name} maxLength={100} onChange={(e) => setName(e.target.value)} />
          <span className="muted small-text">{t("admRoleNameHelp")}</span>
        </label>
        {error && <div className="error" role="alert">{error}</div>}
        <div className="modal-actions">
          <button type="button" onClick={onClose}>{t("cancel")}</button>
          <button type="submit" className="primary" disabled={busy}>{renaming ? t("admSaveChanges") : t("create")}</button>
        </div>
      </form>
    </div>
  );
}
