// The tenant's subjects (invoices, debtors, clients ...): filter by type and status, search,
// page through them on the server, select some and start a flow for them.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { api, ApiError } from "../api";
import { pick, useT } from "../i18n";
import { navigate } from "../router";
import { useUser } from "../user";
import { StartFlowDialog, type Picked } from "../components/StartFlowDialog";
import { ImportDialog } from "../subjects/ImportDialog";
import { displayName, fieldValue, formatValue, listColumns, pageRange } from "../subjects/columns";
import type { Subject, SubjectTypeInfo } from "../subjects/model";
import { subjectStatusKey } from "../subjects/status";

const PAGE = 50;
const SEARCH_PAUSE_MS = 250;

interface Filters {
  type: string;
  status: string;
  q: string;
  offset: number;
}

function filtersFromUrl(): Filters {
  const query = new URLSearchParams(location.search);
  const offset = Number(query.get("offset") ?? 0);
  return {
    type: query.get("type") ?? "",
    status: query.get("status") ?? "",
    q: query.get("q") ?? "",
    offset: Number.isInteger(offset) && offset > 0 ? offset : 0,
  };
}

/** Kept in the address, so going back from a subject finds the list as it was. */
function filtersToUrl(f: Filters): void {
  const query = new URLSearchParams();
  if (f.type) query.set("type", f.type);
  if (f.status) query.set("status", f.status);
  if (f.q) query.set("q", f.q);
  if (f.offset) query.set("offset", String(f.offset));
  const search = query.toString();
  const url = `/subjects${search ? `?${search}` : ""}`;
  history.replaceState(null, "", url);
  sessionStorage.setItem(LAST_LIST, url);
}

/** The list as last filtered in this tab: a subject's page links back to it. */
export const LAST_LIST = "procedo.subjects.list";

export function SubjectsPage() {
  const { t, lang } = useT();
  const user = useUser();
  const staff = user?.access === "admin" || user?.access === "designer";
  const [types, setTypes] = useState<SubjectTypeInfo[]>([]);
  const [filters, setFilters] = useState<Filters>(filtersFromUrl);
  const [typed, setTyped] = useState(filters.q);
  const [rows, setRows] = useState<Subject[] | null>(null);
  const [more, setMore] = useState(false);
  const [total, setTotal] = useState<number | null>(null);
  const [error, setError] = useState("");
  const [selected, setSelected] = useState<Map<string, Picked>>(new Map());
  const [starting, setStarting] = useState(false);
  const [importing, setImporting] = useState(false);
  const asked = useRef(0);

  useEffect(() => {
    api.subjectTypeList().then(setTypes, (e) => setError(e instanceof ApiError ? e.detail : String(e)));
  }, []);

  const load = useCallback(async (f: Filters) => {
    const ticket = ++asked.current;
    const params: Record<string, string> = { limit: String(PAGE + 1), offset: String(f.offset) };
    if (f.type) params.type = f.type;
    // Computed columns (a debtor's debt, its D.I.P.) come with the page, as of today.
    const computed = listColumns(types.find((x) => x.name === f.type)).filter((c) => c.computed);
    if (f.type && computed.length) params.facts = computed.map((c) => c.name).join(",");
    if (f.status) params.status = f.status;
    if (f.q) params.q = f.q;
    try {
      const page = await api.subjects(params);
      if (ticket !== asked.current) return; // a later filter answered first
      setRows(page.rows.slice(0, PAGE));
      setMore(page.rows.length > PAGE);
      setTotal(page.total);
      setError("");
    } catch (e) {
      if (ticket === asked.current) setError(e instanceof ApiError ? e.detail : String(e));
    }
  }, [types]);

  useEffect(() => {
    filtersToUrl(filters);
    void load(filters);
  }, [filters, load]);

  // The search waits for a pause in typing, so each key is not a request.
  useEffect(() => {
    if (typed === filters.q) return;
    const timer = setTimeout(() => setFilters((f) => ({ ...f, q: typed.trim(), offset: 0 })), SEARCH_PAUSE_MS);
    return () => clearTimeout(timer);
  }, [typed, filters.q]);

  const typeInfo = types.find((x) => x.name === filters.type);
  const columns = useMemo(() => listColumns(typeInfo), [typeInfo]);
  const typeLabel = useCallback((name: string) => pick(types.find((x) => x.name === name)?.label, lang) || name, [types, lang]);
  const statusText = (status: string) => {
    const key = subjectStatusKey(status);
    return key ? t(key) : status;
  };
  const words = { yes: t("subjYes"), no: t("subjNo") };

  const shown = rows ?? [];
  const allOnPage = shown.length > 0 && shown.every((s) => selected.has(s.id));
  function toggle(s: Subject) {
    setSelected((old) => {
      const next = new Map(old);
      if (next.has(s.id)) next.delete(s.id);
      else next.set(s.id, { id: s.id, key: s.key, type: s.type });
      return next;
    });
  }
  function togglePage() {
    setSelected((old) => {
      const next = new Map(old);
      for (const s of shown) {
        if (allOnPage) next.delete(s.id);
        else next.set(s.id, { id: s.id, key: s.key, type: s.type });
      }
      return next;
    });
  }
  const open = (s: Subject) => navigate(`/subjects/${encodeURIComponent(s.id)}`);

  return (
    <div className="page subjects-page" data-testid="subjects-page">
      <div className="page-head">
        <h1>{t("subjTitle")}</h1>
        <div className="spacer" />
        {selected.size > 0 && (
          <span className="muted" data-testid="selection">
            {t("subjSelected", { n: selected.size })}{" "}
            <button className="ghost small" onClick={() => setSelected(new Map())}>{t("subjClearSelection")}</button>
          </span>
        )}
        {staff && <button onClick={() => setImporting(true)}>{t("impOpen")}</button>}
        {staff && (
          <button className="primary" disabled={selected.size === 0} onClick={() => setStarting(true)}>{t("subjStartFlow")}</button>
        )}
      </div>
      <div className="subject-filters">
        <select aria-label={t("subjType")} name="type" value={filters.type} onChange={(e) => setFilters({ type: e.target.value, status: "", q: filters.q, offset: 0 })}>
          <option value="">{t("subjAllTypes")}</option>
          {types.map((x) => <option key={x.name} value={x.name}>{pick(x.label, lang)}</option>)}
        </select>
        <select aria-label={t("status")} name="status" value={filters.status} disabled={!typeInfo?.statuses?.length} onChange={(e) => setFilters({ ...filters, status: e.target.value, offset: 0 })}>
          <option value="">{t("subjAllStatuses")}</option>
          {(typeInfo?.statuses ?? []).map((s) => <option key={s} value={s}>{statusText(s)}</option>)}
        </select>
        <input type="search" name="q" placeholder={t("subjSearch")} aria-label={t("subjSearch")} value={typed} maxLength={100} onChange={(e) => setTyped(e.target.value)} />
      </div>
      {error && <div className="error-box" role="alert">{error}</div>}
      {rows === null ? (
        <div className="muted">{t("loading")}</div>
      ) : (
        <table className="table subjects-table" data-testid="subjects-table">
          <thead>
            <tr>
              <th className="check"><input type="checkbox" aria-label={t("subjSelectPage")} title={t("subjSelectPage")} checked={allOnPage} onChange={togglePage} disabled={shown.length === 0} /></th>
              <th>{t("key")}</th>
              {!typeInfo && <th>{t("subjType")}</th>}
              {typeInfo ? columns.map((c) => <th key={c.name}>{pick(c.label, lang)}</th>) : <th>{t("name")}</th>}
              <th>{t("status")}</th>
            </tr>
          </thead>
          <tbody>
            {shown.length === 0 && (
              <tr><td colSpan={3 + Math.max(columns.length, 2)} className="muted">{t("subjNoneFound")}</td></tr>
            )}
            {shown.map((s) => (
              <tr key={s.id} data-subject={s.key} className={selected.has(s.id) ? "on" : ""}>
                <td className="check"><input type="checkbox" aria-label={t("subjSelectOne", { key: s.key })} checked={selected.has(s.id)} onChange={() => toggle(s)} /></td>
                <td><a href={`/subjects/${s.id}`} onClick={(e) => { e.preventDefault(); open(s); }}><strong>{s.key}</strong></a></td>
                {!typeInfo && <td>{typeLabel(s.type)}</td>}
                {typeInfo
                  ? columns.map((c) => {
                      const currency = fieldValue(s.fields, "currency");
                      return (
                        <td key={c.name} className={c.type === "decimal" || c.type === "integer" ? "num" : ""}>
                          {formatValue(fieldValue(s.fields, c.name), c.type, lang, words, typeof currency === "string" ? currency : undefined)}
                        </td>
                      );
                    })
                  : <td>{displayName(s) === s.key ? "" : displayName(s)}</td>}
                <td><span className="badge">{statusText(s.status)}</span></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="pager">
        <span className="muted" data-testid="page-range">{pageRange(filters.offset, shown.length, total, lang, t("subjOf"))}</span>
        <button disabled={filters.offset === 0} onClick={() => setFilters({ ...filters, offset: Math.max(0, filters.offset - PAGE) })}>{t("subjPrevious")}</button>
        <button disabled={!more} onClick={() => setFilters({ ...filters, offset: filters.offset + PAGE })}>{t("subjNext")}</button>
      </div>
      {importing && <ImportDialog onClose={() => setImporting(false)} onImported={() => void load(filters)} />}
      {starting && (
        <StartFlowDialog
          subjects={[...selected.values()]}
          typeLabel={typeLabel}
          onClose={() => setStarting(false)}
          onStarted={() => setSelected(new Map())}
        />
      )}
    </div>
  );
}
