// The order the flow format declares its trigger fields in (backend/procedo/flow/model.py).
// docs/flow.schema.json is canonical JSON with sorted keys, which loses that order, so the
// trigger form would list "at, day of month, filter, interval, ..." alphabetically.
// test/schema.test.ts checks that these lists name exactly the schema's properties.
import type { JsonSchema } from "../types";
import { prepareSchema } from "./schema";

export const DECLARED_ORDER: Record<string, string[]> = {
  ManualTrigger: ["kind"],
  EventTrigger: ["kind", "event", "when"],
  ScheduleTrigger: ["kind", "every", "interval", "weekday", "day_of_month", "at", "starts_on", "timezone", "filter"],
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

/** The flow settings form's schema: the trigger and the stop rule, from the flow format's schema. */
export function flowSettingsSchema(flowSchema: JsonSchema): JsonSchema {
  const defs = inDeclaredOrder(flowSchema.$defs as Record<string, JsonSchema>);
  const props = defs.Flow!.properties!;
  return prepareSchema({ $defs: defs, type: "object", properties: { trigger: props.trigger, stop_when: props.stop_when }, required: ["trigger"] });
}
