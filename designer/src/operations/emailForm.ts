// The email settings form: what a person typed -> the API's body, or the fields to fix.
import type { TextKey } from "../i18n";
import type { EmailSettings, EmailSettingsInput, Lang, MailSecurity } from "../types";

export interface EmailForm {
  host: string;
  port: string;
  security: MailSecurity;
  username: string;
  password: string; // empty: keep the stored one
  removePassword: boolean;
  sender_address: string;
  sender_name: string;
  reply_to: string;
  default_language: Lang;
}

export type FormErrors = Partial<Record<keyof EmailForm, TextKey>>;

const ADDRESS = /^[^\s@<>",]+@[^\s@<>",]+\.[^\s@<>",]+$/;

export function formOf(s: EmailSettings): EmailForm {
  return {
    host: s.host ?? "",
    port: String(s.port ?? 587),
    security: s.security ?? "starttls",
    username: s.username ?? "",
    password: "",
    removePassword: false,
    sender_address: s.sender_address ?? "",
    sender_name: s.sender_name ?? "",
    reply_to: s.reply_to ?? "",
    default_language: s.default_language,
  };
}

/** The body to PUT, or the errors per field (nothing is sent while there are any). */
export function toInput(form: EmailForm, passwordSet: boolean): { body?: EmailSettingsInput; errors: FormErrors } {
  const errors: FormErrors = {};
  const host = form.host.trim();
  if (!host) errors.host = "opsRequired";
  const port = Number(form.port);
  if (!/^\d+$/.test(form.port.trim()) || port < 1 || port > 65535) errors.port = "opsBadPort";
  const sender = form.sender_address.trim();
  if (!sender) errors.sender_address = "opsRequired";
  else if (!ADDRESS.test(sender)) errors.sender_address = "opsBadAddress";
  const replyTo = form.reply_to.trim();
  if (replyTo && !ADDRESS.test(replyTo)) errors.reply_to = "opsBadAddress";
  const username = form.username.trim();
  const willHavePassword = form.password !== "" || (passwordSet && !form.removePassword);
  if (username && !willHavePassword) errors.password = "opsLoginPair";
  if (!username && form.password !== "") errors.username = "opsLoginPair";
  if (Object.keys(errors).length) return { errors };
  const body: EmailSettingsInput = {
    host,
    port,
    security: form.security,
    username: username || null,
    sender_address: sender,
    sender_name: form.sender_name.trim(),
    reply_to: replyTo || null,
    default_language: form.default_language,
  };
  // Left out, the stored password is kept; "" removes it.
  if (form.password !== "") body.password = form.password;
  else if (form.removePassword || (!username && passwordSet)) body.password = "";
  return { body, errors };
}

/** A server problem's path ("$.sender_address") -> the form field it names. */
export function fieldOfPath(path: string | null | undefined): keyof EmailForm | null {
  const name = (path ?? "").replace(/^\$\./, "").split(/[.[]/)[0];
  const fields: (keyof EmailForm)[] = ["host", "port", "security", "username", "password", "sender_address", "sender_name", "reply_to", "default_language"];
  return (fields as string[]).includes(name) ? (name as keyof EmailForm) : null;
}
