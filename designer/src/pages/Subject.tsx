// One subject: its fields and computed facts, a debtor's payments, the people per role for it,
// and every flow that ran on it with its history (P6); start a flow for it from here.
import { useCallback, useEffect, useMemo, useState } from "react";
import { api, ApiError } from "../api";
import { HistoryList } from "../components/HistoryList";
import { StartFlowDialog } from "../components/StartFlowDialog";
import { LAST_LIST } from "./Subjects";
import { docOf } from "../flow/document";
import { pick, useT, type TextKey } from "../i18n";
import type { OutboxItem } from "../types";
import { navigate } from "../router";
import { useUser } from "../user";
import { displayName, fieldValue, formatValue } from "../subjects/columns";
import type { OpenItem, Payment, RoleInfo, Subject, SubjectFacts, SubjectFieldInfo, SubjectTypeInfo, TimelineInstance } from "../subjects/model";
import { instanceStatusKey, itemStatusKey, subjectStatusKey } from "../subjects/status";
import { when } from "../util";
import { ProcedureTimelineCard } from "../subjects/ProcedureTimeline";
import { PortalActivityCard } from "../subjects/PortalActivity";
import { ClientRequestsCard } from "../subjects/ClientRequests";

const message = (e: unknown) => (e instanceof ApiError ? e.detail : String(e));

export function SubjectPage({ id }: { id: string }) {
  const { t, lang } = useT();
  const user = useUser();
  const staff = user?.access === "admin" || user?.access === "designer";
  const [subject, setSubject] = useState<Subject | null>(null);
  const [missing, setMissing] = useState(false);
  const [type, setType] = useState<SubjectTypeInfo | null>(null);
  const [facts, setFacts] = useState<SubjectFacts | null>(null);
  const [timeline, setTimeline] = useState<TimelineInstance[]>([]);
  const [labels, setLabels] = useState<Record<string, Record<string, string>>>({});
  const [payments, setPayments] = useState<Payment[] | null>(null);
  const [items, setItems] = useState<OpenItem[] | null>(null);
  const [starting, setStarting] = useState(false);
  const [error, setError] = useState("");

  const loadTimeline = useCallback(async () => {
    const found = await api.subjectTimeline(id);
    setTimeline(found);
    // Node labels per flow version, for the history's sentences.
    const wanted = [...new Set(found.map((i) => `${i.flow}@${i.version}`))];
    const pairs = await Promise.all(
      wanted.map(async (fv) => {
        const [flow, version] = fv.split("@") as [string, string];
        try {
          const doc = docOf(await api.version(flow, Number(version)));
          return [fv, Object.fromEntries(doc.nodes.map((n) => [n.id, n.label || n.id]))] as const;
        } catch {
          return [fv, {}] as const;
        }
      }),
    );
    setLabels(Object.fromEntries(pairs));
  }, [id]);

  useEffect(() => {
    // The subject and its type together: its fields show with their labels at once.
    Promise.all([api.subject(id), api.subjectTypeList()]).then(
      ([s, types]) => {
        const found = types.find((x) => x.name === s.type) ?? null;
        setType(found);
        setSubject(s);
        if (found?.fields.some((f) => f.computed)) api.subjectFacts(id).then(setFacts, () => undefined);
        if (s.type === "debtor") {
          api.debtorPayments(id).then(setPayments, () => setPayments(null));
          api.openItems(id).then(setItems, () => setItems(null));
        }
      },
      (e) => {
        if (e instanceof ApiError && e.status === 404) setMissing(true);
        else setError(message(e));
      },
    );
    loadTimeline().catch((e) => setError(message(e)));
  }, [id, loadTimeline]);

  if (missing) {
    return (
      <div className="page subject-page" data-testid="subject-page">
        <BackLink />
        <div className="error-box" role="alert">{t("subjNotFound")}</div>
      </div>
    );
  }
  if (!subject) {
    return (
      <div className="page subject-page" data-testid="subject-page">
        {error ? <div className="error-box" role="alert">{error}</div> : <div className="muted">{t("loading")}</div>}
      </div>
    );
  }

  const statusKey = subjectStatusKey(subject.status);
  const name = displayName(subject);
  const typeLabel = (n: string) => (type && n === type.name ? pick(type.label, lang) : n);
  return (
    <div className="page subject-page" data-testid="subject-page">
      <BackLink />
      <div className="page-head">
        <h1>{name}</h1>
        {name !== subject.key && <code className="muted">{subject.key}</code>}
        <span className="muted">{type ? pick(type.label, lang) : subject.type}</span>
        <span className="badge" data-testid="subject-status">{statusKey ? t(statusKey) : subject.status}</span>
        <div className="spacer" />
        {staff && <button className="primary" onClick={() => setStarting(true)}>{t("subjStartFlow")}</button>}
      </div>
      {error && <div className="error-box" role="alert">{error}</div>}
      <div className="subject-grid">
        <div>
          <FieldsCard subject={subject} type={type} />
          {facts && type && <FactsCard facts={facts} type={type} currency={fieldValue(subject.fields, "currency")} />}
          {items && <OpenItemsCard items={items} />}
          {payments && <PaymentsCard payments={payments} />}
          <RolesCard subjectId={subject.id} canChange={user?.access === "admin"} />
          {staff && <MessagesCard subjectId={subject.id} />}
          <ProcedureTimelineCard subjectId={subject.id} />
          {/* A debtor's portal; members too: Collections decide on arrangements in review here (M5). */}
          {subject.type === "debtor" && <PortalActivityCard subjectId={subject.id} />}
          {staff && <ClientRequestsCard subjectId={subject.id} />}
        </div>
        <div>
          <section className="card" data-testid="timeline">
            <h3>{t("subjTimeline")}</h3>
            {timeline.length === 0 && <div className="muted">{t("subjNoInstances")}</div>}
            {[...timeline].reverse().map((inst) => {
              const key = instanceStatusKey(inst.status);
              const nodes = labels[`${inst.flow}@${inst.version}`] ?? {};
              return (
                <div key={inst.id} className="timeline-instance" data-instance={inst.id}>
                  <div className="timeline-head">
                    <strong>{inst.flow}</strong> <span className="muted">v{inst.version}</span>{" "}
                    <span className={`badge ${inst.status}`}>{key ? t(key) : inst.status}</span>
                    <span className="muted small-text">
                      {" "}{t("subjStarted", { when: when(inst.started_at, lang) })}
                      {inst.ended_at ? ` · ${t("subjEnded", { when: when(inst.ended_at, lang) })}` : ""}
                    </span>
                    <div className="spacer" />
                    <a href={`/running/${inst.flow}`} onClick={(e) => { e.preventDefault(); navigate(`/running/${encodeURIComponent(inst.flow)}`); }}>{t("subjOpenRunning")}</a>
                  </div>
                  <HistoryList entries={inst.history} nodeLabel={(n) => nodes[n] ?? n} />
                </div>
              );
            })}
          </section>
        </div>
      </div>
      {starting && (
        <StartFlowDialog
          subjects={[{ id: subject.id, key: subject.key, type: subject.type }]}
          typeLabel={typeLabel}
          onClose={() => setStarting(false)}
          onStarted={() => { setTimeout(() => void loadTimeline(), 500); }}
        />
      )}
    </div>
  );
}

function BackLink() {
  const { t } = useT();
  return (
    <a className="back-link" href="/subjects" onClick={(e) => { e.preventDefault(); navigate(sessionStorage.getItem(LAST_LIST) ?? "/subjects"); }}>
      ← {t("subjBack")}
    </a>
  );
}

function useWords() {
  const { t } = useT();
  return useMemo(() => ({ yes: t("subjYes"), no: t("subjNo") }), [t]);
}

function FieldsCard({ subject, type }: { subject: Subject; type: SubjectTypeInfo | null }) {
  const { t, lang } = useT();
  const words = useWords();
  const currency = fieldValue(subject.fields, "currency");
  const declared = (type?.fields ?? []).filter((f) => !f.computed);
  const rows = declared
    .map((f) => ({ field: f, value: fieldValue(subject.fields, f.name) }))
    .filter((r) => r.value !== undefined && r.value !== null && r.value !== "");
  const known = new Set((type?.fields ?? []).flatMap((f) => [f.name, f.name.split(".")[0]!]));
  const others = Object.entries(subject.fields).filter(([k]) => !known.has(k));
  return (
    <section className="card" data-testid="subject-fields">
      <h3>{t("subjFields")}</h3>
      <table className="fields-table">
        <tbody>
          <tr><td>{t("key")}</td><td><code>{subject.key}</code></td></tr>
          {rows.map(({ field, value }) => (
            <tr key={field.name} data-field={field.name}>
              <td>{pick(field.label, lang)}</td>
              <td className={field.type === "decimal" ? "num-left" : ""}>{formatValue(value, field.type, lang, words, typeof currency === "string" ? currency : undefined)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {others.length > 0 && (
        <>
          <h3>{t("subjOtherFields")}</h3>
          <table className="fields-table">
            <tbody>
              {others.map(([k, v]) => <tr key={k}><td><code>{k}</code></td><td>{formatValue(v, "string", lang, words)}</td></tr>)}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

function FactsCard({ facts, type, currency }: { facts: SubjectFacts; type: SubjectTypeInfo; currency: unknown }) {
  const { t, lang } = useT();
  const words = useWords();
  const computed: SubjectFieldInfo[] = type.fields.filter((f) => f.computed && f.name in facts.facts);
  if (computed.length === 0) return null;
  return (
    <section className="card" data-testid="subject-facts">
      <h3>{t("subjFacts", { date: formatValue(facts.today, "date", lang, words) })}</h3>
      <table className="fields-table">
        <tbody>
          {computed.map((f) => {
            const value = formatValue(facts.facts[f.name], f.type, lang, words, typeof currency === "string" ? currency : undefined);
            return <tr key={f.name} data-field={f.name}><td>{pick(f.label, lang)}</td><td>{value || t("subjNoValue")}</td></tr>;
          })}
        </tbody>
      </table>
    </section>
  );
}

function OpenItemsCard({ items }: { items: OpenItem[] }) {
  const { t, lang } = useT();
  const words = useWords();
  return (
    <section className="card" data-testid="subject-open-items">
      <h3>{t("subjOpenItems")}</h3>
      {items.length === 0 ? (
        <div className="muted">{t("subjNoOpenItems")}</div>
      ) : (
        <table className="fields-table">
          <thead><tr><th>{t("subjNumber")}</th><th>{t("subjDue")}</th><th>{t("subjAmount")}</th><th>{t("subjOpenAmount")}</th><th>{t("status")}</th></tr></thead>
          <tbody>
            {items.map((i) => {
              const key = itemStatusKey(i.status);
              return (
                <tr key={i.id} data-item={i.number}>
                  <td>{i.number}{i.kind === "credit_note" ? <span className="muted small-text"> ({t("subjCreditNote")})</span> : null}</td>
                  <td>{formatValue(i.due_date, "date", lang, words)}</td>
                  <td>{formatValue(i.amount, "decimal", lang, words, i.currency)}</td>
                  <td>{formatValue(i.open_amount, "decimal", lang, words, i.currency)}</td>
                  <td>{key ? t(key) : i.status}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}

const MESSAGE_STATE: Record<string, TextKey> = { queued: "opsQueued", sent: "opsSent", failed: "opsFailed", ready: "opsReady" };

/** What Procedo sent this subject (emails, letters), newest first, as the outbox keeps it. */
function MessagesCard({ subjectId }: { subjectId: string }) {
  const { t, lang } = useT();
  const [messages, setMessages] = useState<OutboxItem[] | null>(null);
  useEffect(() => {
    api.outbox({ subject_id: subjectId, limit: "20" }).then(setMessages, () => setMessages([]));
  }, [subjectId]);
  if (messages === null) return null;
  return (
    <section className="card" data-testid="subject-messages">
      <h3>{t("subjMessages")}</h3>
      {messages.length === 0 && <div className="muted">{t("subjNoMessages")}</div>}
      <ul className="plain-list">
        {messages.map((msg) => (
          <li key={msg.id} data-message={msg.id}>
            <span className="muted">{t(msg.kind === "letter" ? "opsLetter" : msg.kind === "sms" ? "smsChannel" : "opsEmail")}</span>{" "}
            <span data-i18n-skip>{msg.subject}</span>{" "}
            <span className={`badge ${msg.status}`}>{MESSAGE_STATE[msg.status] ? t(MESSAGE_STATE[msg.status]!) : msg.status}</span>{" "}
            <span className="muted small-text">{when(msg.sent_at ?? msg.created_at, lang)}</span>
            {msg.kind === "letter" && (
              <> · <a href={`/api/v1/letters/${msg.id}/pdf`} target="_blank" rel="noopener">{t("opsLetterPdf")}</a></>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

function PaymentsCard({ payments }: { payments: Payment[] }) {
  const { t, lang } = useT();
  const words = useWords();
  return (
    <section className="card" data-testid="subject-payments">
      <h3>{t("subjPayments")}</h3>
      {payments.length === 0 ? (
        <div className="muted">{t("subjNoPayments")}</div>
      ) : (
        <table className="fields-table">
          <thead><tr><th>{t("subjPaidOn")}</th><th>{t("subjAmount")}</th><th>{t("subjForItem")}</th></tr></thead>
          <tbody>
            {payments.map((p) => (
              <tr key={p.id}>
                <td>{formatValue(p.paid_on, "date", lang, words)}</td>
                <td>{formatValue(p.amount, "decimal", lang, words, p.currency)}</td>
                <td>{p.open_item ?? <span className="muted">{p.status === "matched" ? t("subjMatched") : t("subjUnmatched")}</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function RolesCard({ subjectId, canChange }: { subjectId: string; canChange: boolean }) {
  const { t, lang } = useT();
  const [roles, setRoles] = useState<RoleInfo[]>([]);
  const [people, setPeople] = useState<{ email: string; name: string }[]>([]);
  const [role, setRole] = useState("");
  const [email, setEmail] = useState("");
  const [error, setError] = useState("");

  const load = useCallback(() => {
    api.rolesWithMembers().then(setRoles, (e) => setError(message(e)));
  }, []);
  useEffect(() => {
    load();
    if (canChange) api.userEmails().then(setPeople, () => setPeople([]));
  }, [load, canChange]);

  const roleLabel = (r: RoleInfo) => r.labels?.[lang] || r.label || r.name;
  const members = roles.flatMap((r) => r.members.filter((mb) => mb.subject_id === subjectId).map((mb) => ({ role: r, member: mb })));

  async function change(action: () => Promise<unknown>) {
    setError("");
    try {
      await action();
      load();
    } catch (e) {
      setError(message(e));
    }
  }

  return (
    <section className="card" data-testid="subject-roles">
      <h3>{t("subjRoles")}</h3>
      <div className="muted small-text">{t("subjRolesHelp")}</div>
      {members.length === 0 ? (
        <div className="muted">{t("subjNoRoleMembers")}</div>
      ) : (
        <table className="fields-table">
          <tbody>
            {members.map(({ role: r, member }) => (
              <tr key={`${r.name}/${member.email}`}>
                <td>{roleLabel(r)}</td>
                <td>
                  {member.name || member.email} <span className="muted small-text">{member.name ? member.email : ""}</span>
                  {canChange && (
                    <button
                      className="ghost small"
                      aria-label={t("subjRemoveMember", { name: member.name || member.email, role: roleLabel(r) })}
                      title={t("subjRemoveMember", { name: member.name || member.email, role: roleLabel(r) })}
                      onClick={() => void change(() => api.removeRoleMember(r.name, member.email, subjectId))}
                    >×</button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {canChange && (
        <form className="inline-form" onSubmit={(e) => { e.preventDefault(); if (role && email) void change(() => api.addRoleMember(role, email, subjectId)).then(() => setEmail("")); }}>
          <select aria-label={t("subjRole")} value={role} onChange={(e) => setRole(e.target.value)}>
            <option value="">{t("subjRole")}: {t("subjChoose")}</option>
            {roles.map((r) => <option key={r.name} value={r.name}>{roleLabel(r)}</option>)}
          </select>
          <select aria-label={t("subjPerson")} value={email} onChange={(e) => setEmail(e.target.value)}>
            <option value="">{t("subjPerson")}: {t("subjChoose")}</option>
            {people.map((p) => <option key={p.email} value={p.email}>{p.name ? `${p.name} (${p.email})` : p.email}</option>)}
          </select>
          <button type="submit" disabled={!role || !email}>{t("subjAddMember")}</button>
        </form>
      )}
      {error && <div className="error" role="alert">{error}</div>}
    </section>
  );
}
