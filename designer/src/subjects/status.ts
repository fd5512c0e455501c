// Statuses in words: a subject's (texts/subjects.ts) and an instance's (texts/history.ts).
import type { TextKey } from "../i18n";
import { subjects } from "../texts/subjects";
import { history } from "../texts/history";

const camel = (s: string) => s.split(/[_\s-]+/).map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join("");

/** The text key for a subject status, or null for a status of the office's own (shown as is). */
export function subjectStatusKey(status: string): TextKey | null {
  if (!status) return "sstNone";
  const key = `sst${camel(status)}`;
  return key in subjects ? (key as TextKey) : null;
}

/** The text key for an instance status (running, completed, failed ...), or null. */
export function instanceStatusKey(status: string): TextKey | null {
  const key = `st${camel(status)}`;
  return key in history ? (key as TextKey) : null;
}

/** The text key for an open item's status (open, dispute, paid ...), or null. */
export function itemStatusKey(status: string): TextKey | null {
  const key = `ist${camel(status)}`;
  return key in subjects ? (key as TextKey) : null;
}
