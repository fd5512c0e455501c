// History entries in words, in the reader's language (issue 13): who did what, with the
// node's label; the event code stays available for support (shown on hover).
import { translate, type TextKey } from "../i18n";
import type { Lang } from "../types";

/** One row of GET /instances/{id}/history or of a subject's timeline. */
export interface HistoryEntry {
  seq: number;
  at: string;
  actor: string;
  kind: string;
  instance_id?: string | null;
  node: string | null;
  to_node: string | null;
  port: string | null;
  reason: string | null;
  data: Record<string, unknown>;
}

export interface Described {
  /** the sentence a person reads */
  text: string;
  /** the technical form (event code, node ids), for support */
  code: string;
}

/** Optional ways to name what an entry refers to; each falls back to the raw value. */
export interface Namers {
  /** an outcome or branch as the flow labels it: ("approve", "approve_invoice") -> "Approve" */
  portLabel?: (node: string, port: string) => string;
  /** a person: "anna@demo.example" -> "Anna Jansen" */
  actorName?: (actor: string) => string;
  /** a subject status as its type labels it: "approved" -> "Approved" */
  subjectStatus?: (status: string) => string;
}

const QUOTES: Record<Lang, [string, string]> = { en: ["‘", "’"], nl: ["‘", "’"], de: ["„", "“"] };

export function quoted(text: string, lang: Lang): string {
  const [open, close] = QUOTES[lang];
  return `${open}${text}${close}`;
}

/** "anna.de.vries@demo.example" -> "Anna De Vries"; other actors as they are. */
export function nameFromEmail(actor: string): string {
  const at = actor.indexOf("@");
  if (at <= 0 || actor.includes(" ")) return actor;
  return actor
    .slice(0, at)
    .split(/[._-]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join(" ");
}

function actorText(actor: string, lang: Lang, namers: Namers): string {
  if (!actor || actor === "system") return translate(lang, "actorSystem");
  if (actor === "debtor (portal)") return translate(lang, "actorDebtor");
  return namers.actorName?.(actor) ?? nameFromEmail(actor);
}

/** "role approvers" / "user anna@x" (as the runtime writes an assignee) in words. */
function assigneeText(value: unknown, lang: Lang, namers: Namers): string {
  if (typeof value !== "string" || !value) return translate(lang, "nobody");
  const [kind, ...rest] = value.split(" ");
  const name = rest.join(" ");
  if (kind === "role") return translate(lang, "assigneeRole", { name });
  if (kind === "user") return translate(lang, "assigneeUser", { name: actorText(name, lang, namers) });
  return value;
}

function list(value: unknown): string {
  return Array.isArray(value) ? value.map(String).join(", ") : typeof value === "string" ? value : "";
}

function shown(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

const STATUS_KEYS: Record<string, TextKey> = {
  pending: "stPending",
  running: "stRunning",
  completed: "stCompleted",
  cancelled: "stCancelled",
  failed: "stFailed",
  stopped: "stStopped",
  waiting: "stWaiting",
  open: "stOpen",
  overdue: "stOverdue",
  sent: "stSent",
  ready: "stReady",
  printed: "stPrinted",
  claimed: "stClaimed",
};

/** An instance's, task's or message's status in words; an unknown one as it is. */
export function statusLabel(status: string, lang: Lang): string {
  const key = STATUS_KEYS[status];
  return key ? translate(lang, key) : status;
}

/** The history kinds described here, by the text that says them (a test checks each). */
export const KIND_TEXTS: Record<string, TextKey> = {
  instance_started: "hInstanceStarted",
  instance_completed: "hInstanceCompleted",
  instance_cancelled: "hInstanceCancelled",
  instance_stopped: "hInstanceStopped",
  instance_retried: "hInstanceRetried",
  instance_upgraded: "hInstanceUpgraded",
  retried: "hInstanceRetried",
  failed: "hFailed",
  entered: "hEntered",
  left: "hLeft",
  waiting: "hWaiting",
  ended: "hEnded",
  moved: "hMoved",
  cancelled: "hTokenCancelled",
  stopped: "hTokenStopped",
  task_opened: "hTaskOpened",
  task_completed: "hTaskCompleted",
  task_claimed: "hTaskClaimed",
  task_reassigned: "hTaskReassigned",
  task_reminded: "hTaskReminded",
  checkpoint_ticked: "phHistTicked",
  checkpoint_unticked: "phHistUnticked",
  approval_decided: "dunHApproved",
  action_skipped: "prcHSkipped",
  action_postponed: "prcHPostponed",
  action_undone: "prcHUndone",
  open_item_status: "prcHItemStatus",
  email_queued: "hEmailQueued",
  letter_queued: "hLetterQueued",
  email_sent: "hEmailSent",
  email_failed: "hEmailFailed",
  email_resent: "hEmailResent",
  status_changed: "hStatusChanged",
  field_changed: "hFieldChanged",
  partner_status_set: "hPartnerStatusSet",
  partnership_granted: "hPartnershipGranted",
  partnership_revoked: "hPartnershipRevoked",
  email_settings_changed: "hEmailSettingsChanged",
  email_settings_removed: "hEmailSettingsRemoved",
  calendar_changed: "hCalendarChanged",
  sms_queued: "smsHQueued",
  sms_sent: "smsHSent",
  sms_failed: "smsHFailed",
  sms_resent: "smsHResent",
  sms_settings_changed: "smsHSettingsChanged",
  sms_settings_removed: "smsHSettingsRemoved",
  portal_opened: "hPortalOpened",
  portal_links_revoked: "hPortalLinksRevoked",
  "portal.copy_requested": "hPortalCopy",
  "portal.paid_reported": "hPortalPaid",
  "portal.arrangement_proposed": "hPortalArrangement",
  "portal.promise_made": "hPortalPromise",
  client_page_opened: "crHPageOpened",
  client_request_opened: "crHOpened",
  client_request_reminded: "crHReminded",
  client_request_overdue: "crHOverdue",
  client_request_received: "crHReceived",
  return_approved: "crHApproved",
  return_declined: "crHDeclined",
  return_submitted: "crHSubmitted",
};

/** The entry as a sentence in `lang`, and its technical form for support. */
export function describeHistory(
  entry: HistoryEntry,
  lang: Lang,
  nodeLabel: (id: string) => string,
  namers: Namers = {},
): Described {
  const code = [entry.kind, entry.node, entry.port && `-> ${entry.port}`, entry.to_node && `=> ${entry.to_node}`]
    .filter(Boolean)
    .join(" ");
  const data = entry.data ?? {};
  const q = (text: string) => quoted(text, lang);
  const node = entry.node ? q(nodeLabel(entry.node) || entry.node) : "—";
  const port = entry.port ? q(entry.node ? (namers.portLabel?.(entry.node, entry.port) ?? entry.port) : entry.port) : "—";
  const status = (value: unknown) => {
    const raw = shown(value);
    return q(namers.subjectStatus?.(raw) ?? statusLabel(raw, lang));
  };
  const vars: Record<string, string | number> = {
    actor: actorText(entry.actor, lang, namers),
    node,
    port,
    to: entry.to_node ? q(nodeLabel(entry.to_node) || entry.to_node) : "—",
    kind: entry.kind,
  };
  let key = KIND_TEXTS[entry.kind] ?? "hOther";
  switch (entry.kind) {
    case "instance_started":
      vars.version = shown(data.version);
      break;
    case "instance_upgraded":
      vars.from = shown(data.from);
      vars.version = shown(data.to);
      break;
    case "instance_completed":
      if (!entry.node) key = "hInstanceCompletedNowhere";
      break;
    case "failed":
      vars.error = shown(data.error);
      break;
    case "task_opened":
      vars.title = q(shown(data.title));
      vars.assignee = assigneeText(data.assignee, lang, namers);
      break;
    case "task_reassigned":
      vars.from = assigneeText(data.from, lang, namers);
      vars.to = assigneeText(data.to, lang, namers);
      break;
    case "task_reminded":
      vars.n = shown(data.reminder);
      break;
    case "checkpoint_ticked":
    case "checkpoint_unticked":
      vars.label = q(shown(data.label));
      break;
    case "approval_decided":
      vars.title = q(shown(data.title));
      if (data.decision === "rejected") key = "dunHRejected";
      break;
    case "email_queued":
    case "letter_queued":
    case "email_sent":
    case "email_failed":
    case "email_resent":
    case "sms_queued":
    case "sms_sent":
    case "sms_failed":
    case "sms_resent":
      vars.subject = q(shown(data.subject));
      vars.to = list(data.to) || translate(lang, "nobody");
      vars.error = shown(data.detail);
      break;
    case "status_changed":
    case "partner_status_set":
      vars.from = status(data.from);
      vars.to = status(data.to);
      break;
    case "field_changed":
      vars.field = q(shown(data.field));
      vars.value = q(shown(data.value));
      break;
    case "partnership_granted":
    case "partnership_revoked":
      vars.partner = q(shown(data.partner));
      break;
    case "portal_links_revoked":
      vars.n = shown(data.links);
      break;
  }
  return { text: translate(lang, key, vars), code };
}
