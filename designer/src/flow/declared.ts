// The order the flow format declares its trigger fields in (backend/procedo/flow/model.py).
// docs/flow.schema.json is canonical JSON with sorted keys, which loses that order, so the
// trigger form would list "at, day of month, filter, interval, ..." alphabetically.
// test/schema.test.ts checks that these lists name exactly the schema's properties.
import type { JsonSchema, Lang } from "../types";
import { LANGS, translate, type TextKey } from "../i18n";
import { prepareSchema } from "./schema";

export const DECLARED_ORDER: Record<string, string[]> = {
  ManualTrigger: ["kind"],
  EventTrigger: ["kind", "event", "when"],
  ScheduleTrigger: ["kind", "every", "interval", "weekday", "day_of_month", "at", "starts_on", "timezone", "filter", "also_if_acted_on"],
};

/** A copy of `$defs` with the listed definitions' properties in their declared order. */
export function inDeclaredOrder(defs: Record<string, JsonSchema>): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = { ...defs };
  for (const [name, order] of Object.entries(DECLARED_ORDER)) {
    const def = defs[name];
    if (!def?.properties) continue;
    const props = def.properties as Record<string, JsonSchema>;
    const names = [...order.filter((k) => k in props), ...Object.keys(props).filter((k) => !order.includes(k))];
    out[name] = { ...def, properties: Object.fromEntries(names.map((k) => [k, props[k]])) };
  }
  return out;
}

// The trigger form's words, as a node type declares its params' (procedo.nodeforms):
// the flow format's schema is generated from backend/procedo/flow/model.py in English only.
interface Words {
  title: TextKey;
  help?: TextKey;
  picker?: string;
  options?: [string, TextKey][];
}
const WEEKDAYS: [string, TextKey][] = [
  ["monday", "wdMonday"],
  ["tuesday", "wdTuesday"],
  ["wednesday", "wdWednesday"],
  ["thursday", "wdThursday"],
  ["friday", "wdFriday"],
  ["saturday", "wdSaturday"],
  ["sunday", "wdSunday"],
];
export const FLOW_WORDS: Record<string, Words> = {
  "Flow.trigger": { title: "trgTrigger", options: [["manual", "trgManual"], ["event", "trgEvent"], ["schedule", "trgSchedule"]] },
  "Flow.stop_when": { title: "trgStopWhen", help: "trgStopWhenHelp" },
  "EventTrigger.event": { title: "trgEventName", help: "trgEventHelp", picker: "event" },
  "EventTrigger.when": { title: "trgWhen" },
  "ScheduleTrigger.every": {
    title: "trgEvery",
    options: [["day", "everyDay"], ["week", "everyWeek"], ["month", "everyMonth"], ["quarter", "everyQuarter"], ["year", "everyYear"]],
  },
  "ScheduleTrigger.interval": { title: "trgInterval", help: "trgIntervalHelp" },
  "ScheduleTrigger.weekday": { title: "trgWeekday", options: WEEKDAYS },
  "ScheduleTrigger.day_of_month": { title: "trgDayOfMonth" },
  "ScheduleTrigger.at": { title: "trgAt" },
  "ScheduleTrigger.starts_on": { title: "trgStartsOn" },
  "ScheduleTrigger.timezone": { title: "trgTimezone", help: "trgTimezoneHelp" },
  "ScheduleTrigger.filter": { title: "trgFilter" },
  "ScheduleTrigger.also_if_acted_on": { title: "trgAlsoIfActedOn", help: "trgAlsoIfActedOnHelp" },
};

const triple = (key: TextKey) => Object.fromEntries(LANGS.map((l) => [l, translate(l, key)]));

/** `$defs` with the trigger form's words as "x-title", "x-help" and "x-options". */
export function withFlowWords(defs: Record<string, JsonSchema>): Record<string, JsonSchema> {
  const out = structuredClone(defs);
  // Class names and docstrings of the format's Python model are no form's words.
  for (const def of Object.values(out)) {
    delete def.title;
    delete def.description;
  }
  for (const [where, words] of Object.entries(FLOW_WORDS)) {
    const [def, prop] = where.split(".") as [string, string];
    const target = out[def]?.properties?.[prop] as JsonSchema | undefined;
    if (!target) continue;
    target["x-title"] = triple(words.title);
    if (words.help) target["x-help"] = triple(words.help);
    if (words.picker) target["x-picker"] = words.picker;
    if (words.options) target["x-options"] = words.options.map(([value, key]) => ({ value, label: triple(key) }));
  }
  return out;
}

/** The flow settings form's schema: the trigger and the stop rule, from the flow format's schema. */
export function flowSettingsSchema(flowSchema: JsonSchema, lang: Lang = "en"): JsonSchema {
  const defs = withFlowWords(inDeclaredOrder(flowSchema.$defs as Record<string, JsonSchema>));
  const props = defs.Flow!.properties!;
  return prepareSchema({ $defs: defs, type: "object", properties: { trigger: props.trigger, stop_when: props.stop_when }, required: ["trigger"] }, lang);
}
