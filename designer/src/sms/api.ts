// The tenant's SMS provider settings and test send (issue 15 item 4), over /settings/sms.
import { request } from "../api";

export type SmsProvider = "sink" | "http";

export interface SmsSettings {
  configured: boolean;
  provider: SmsProvider | null;
  url: string | null;
  // Never the token itself: only whether one is stored.
  token_set: boolean;
  sender: string;
  sink_folder: string | null;
  updated_at: string | null;
  updated_by: string | null;
}

export interface SmsSettingsInput {
  provider: SmsProvider;
  url?: string | null;
  // Left out: keep the stored token; "": remove it.
  token?: string | null;
  sender: string;
}

export interface SmsTestResult {
  ok: boolean;
  outcome: "sent" | "retry" | "failed";
  detail: string;
  provider: string;
  to: string;
}

export const smsApi = {
  settings: async () => (await request<SmsSettings>("/settings/sms")).data,
  save: async (body: SmsSettingsInput) =>
    (await request<SmsSettings>("/settings/sms", { method: "PUT", body })).data,
  test: async (to: string) =>
    (await request<SmsTestResult>("/settings/sms/test", { method: "POST", body: { to } })).data,
};
