// Pure logic of the users page: access levels in words, and server refusals in the user's language.
import { ApiError } from "../api";
import type { TextKey } from "../i18n";
import type { Access } from "../types";

export const ACCESS_LEVELS: Access[] = ["admin", "designer", "member", "partner"];

const NAMES: Record<Access, TextKey> = {
  admin: "admAccessAdmin",
  designer: "admAccessDesigner",
  member: "admAccessMember",
  partner: "admAccessPartner",
};
const HELP: Record<Access, TextKey> = {
  admin: "admAccessHelpAdmin",
  designer: "admAccessHelpDesigner",
  member: "admAccessHelpMember",
  partner: "admAccessHelpPartner",
};

const known = (access: string): access is Access => (ACCESS_LEVELS as string[]).includes(access);
export const accessKey = (access: string): TextKey => (known(access) ? NAMES[access] : "admAccessMember");
export const accessHelpKey = (access: string): TextKey => (known(access) ? HELP[access] : "admAccessHelpMember");

type T = (key: TextKey, vars?: Record<string, string | number>) => string;

/** What went wrong, said in the user's language where the server's answer is a known case.
 * `other` names the user changed when it is not the caller (the last-admin refusal). */
export function userError(t: T, error: unknown, other?: string): string {
  if (!(error instanceof ApiError)) return t("admFailed", { detail: String(error) });
  if (error.status === 409 && error.detail.includes("last active administrator")) {
    return other ? t("admLastAdminOther", { who: other }) : t("admLastAdmin");
  }
  if (error.status === 409 && error.detail.includes("exists already")) return t("admEmailTaken");
  if (error.status === 400 && /\bemail\b/.test(error.detail)) return t("admEmailInvalid");
  return t("admFailed", { detail: error.detail });
}
