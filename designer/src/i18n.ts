// UI texts in the three languages of Procedo's users, one file per area under texts/;
// node labels come from the catalogue.
import { createContext, useContext } from "react";
import type { Labels, Lang } from "./types";
import { core } from "./texts/core";
import { subjects } from "./texts/subjects";
import { admin } from "./texts/admin";
import { operations } from "./texts/operations";
import { work } from "./texts/work";
import { forms } from "./texts/forms";
import { history } from "./texts/history";
import { importsTexts } from "./texts/imports";
import { smsTexts } from "./texts/sms";
import { priorityTexts } from "./texts/priority";
import { dunningTexts } from "./texts/dunning";
import { proceduresTexts } from "./texts/procedures";
import { portalflowsTexts } from "./texts/portalflows";
import { phasesTexts } from "./texts/phases";
import { clientsTexts } from "./texts/clients";
import { registrationsTexts } from "./texts/registrations";
import { adhocTexts } from "./texts/adhoc";
import { arrangementsTexts } from "./texts/arrangements";
import { flownamesTexts } from "./texts/flownames";
import { calendarTexts } from "./texts/calendar";

/** Every area's texts; a test checks no key is defined twice and nl/de differ where they must. */
export const AREAS = { core, subjects, admin, operations, work, forms, history, imports: importsTexts, sms: smsTexts, priority: priorityTexts, dunning: dunningTexts, procedures: proceduresTexts, portalflows: portalflowsTexts, phases: phasesTexts, clients: clientsTexts, registrations: registrationsTexts, adhoc: adhocTexts, arrangements: arrangementsTexts, flownames: flownamesTexts, calendar: calendarTexts };
const T = {
  ...core, ...subjects, ...admin, ...operations, ...work, ...forms, ...history,
  ...importsTexts, ...smsTexts, ...priorityTexts, ...dunningTexts, ...proceduresTexts, ...portalflowsTexts, ...phasesTexts, ...clientsTexts,
  ...registrationsTexts, ...adhocTexts, ...arrangementsTexts, ...flownamesTexts, ...calendarTexts,
};

export type TextKey = keyof typeof T;
const INDEX: Record<Lang, number> = { en: 0, nl: 1, de: 2 };

export function translate(lang: Lang, key: TextKey, vars: Record<string, string | number> = {}): string {
  let text = T[key][INDEX[lang]] ?? T[key][0];
  for (const [k, v] of Object.entries(vars)) text = text.replace(`{${k}}`, String(v));
  return text;
}

export function pick(labels: Labels | string | undefined | null, lang: Lang): string {
  if (!labels) return "";
  if (typeof labels === "string") return labels;
  return labels[lang] || labels.en || "";
}

export const LANGS: Lang[] = ["en", "nl", "de"];

export function storedLang(): Lang {
  const saved = typeof localStorage !== "undefined" ? localStorage.getItem("procedo.lang") : null;
  if (saved === "en" || saved === "nl" || saved === "de") return saved;
  const nav = typeof navigator !== "undefined" ? navigator.language.slice(0, 2) : "en";
  return nav === "nl" || nav === "de" ? nav : "en";
}

export const LangContext = createContext<{ lang: Lang; setLang: (l: Lang) => void }>({
  lang: "en",
  setLang: () => undefined,
});

export function useT() {
  const { lang } = useContext(LangContext);
  return {
    lang,
    t: (key: TextKey, vars?: Record<string, string | number>) => translate(lang, key, vars),
  };
}
