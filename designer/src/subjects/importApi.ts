// POST /api/v1/imports/{debtors|open-items|bank} (docs/api.md): a multipart upload, answered
// with a report whether the file was stored (200) or refused (4xx, nothing stored).
import { ApiError, request } from "../api";
import type { TextKey } from "../i18n";
import { importsTexts } from "../texts/imports";

export type ImportKind = "debtors" | "open-items" | "bank";

export interface ImportProblem {
  code: string;
  message: string;
  line?: number;
  column?: number;
  path?: string;
  params?: Record<string, string | number>;
}

export interface ImportReport {
  status: number;
  detail: string;
  kind: "debtors" | "open_items" | "bank";
  refused: boolean;
  stored: number;
  created: number;
  updated: number;
  skipped: number;
  problem_count: number;
  problems: ImportProblem[];
  version?: string | null;
  matched?: number | null;
  unmatched?: number | null;
  already_stored?: number | null;
}

/** The report, refused or not; other failures (403, 413 ...) throw ApiError. */
export async function importFile(kind: ImportKind, file: File, skipBad: boolean): Promise<ImportReport> {
  const form = new FormData();
  form.append("file", file);
  if (kind !== "bank") form.append("skip_bad", skipBad ? "true" : "false");
  try {
    return (await request<ImportReport>(`/imports/${kind}`, { method: "POST", raw: form })).data;
  } catch (e) {
    if (e instanceof ApiError && typeof e.body.refused === "boolean") return e.body as unknown as ImportReport;
    throw e;
  }
}

/** A problem in the user's language: where (line, column) and what to do; the server's English when its code is new. */
export function problemText(p: ImportProblem, t: (key: TextKey, vars?: Record<string, string | number>) => string): string {
  const vars: Record<string, string | number> = { ...(p.params ?? {}), path: p.path ?? "", line: p.line ?? "", column: p.column ?? "", name: p.path ?? "" };
  const isCell = p.code.startsWith("csv.") && p.line !== undefined && p.column !== undefined;
  const where = isCell ? t("impWhereCell", vars) : p.line !== undefined ? t("impWhereLine", vars) : "";
  const key = `imp_${p.code}`;
  // A code this designer does not know yet reads as the server's English.
  const what = key in importsTexts ? t(key as TextKey, vars) : p.message;
  return where + what;
}
