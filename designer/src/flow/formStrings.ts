// The form library's own words (list buttons, yes/no, "Option 1") in the user's
// language; anything not listed keeps the library's English.
import { englishStringTranslator, replaceStringParameters, TranslatableString } from "@rjsf/utils";
import { translate, type TextKey } from "../i18n";
import type { Lang } from "../types";

const KEYS: Partial<Record<TranslatableString, TextKey>> = {
  [TranslatableString.ArrayItemTitle]: "rjsfItem",
  [TranslatableString.EmptyArray]: "rjsfEmptyArray",
  [TranslatableString.YesLabel]: "rjsfYes",
  [TranslatableString.NoLabel]: "rjsfNo",
  [TranslatableString.AddButton]: "rjsfAdd",
  [TranslatableString.AddItemButton]: "rjsfAdd",
  [TranslatableString.CopyButton]: "rjsfCopy",
  [TranslatableString.MoveDownButton]: "rjsfMoveDown",
  [TranslatableString.MoveUpButton]: "rjsfMoveUp",
  [TranslatableString.RemoveButton]: "rjsfRemove",
  [TranslatableString.NowLabel]: "rjsfNow",
  [TranslatableString.ClearLabel]: "rjsfClear",
  [TranslatableString.ClearButton]: "rjsfClear",
  [TranslatableString.AriaDateLabel]: "rjsfSelectDate",
  [TranslatableString.Type]: "rjsfType",
  [TranslatableString.Value]: "formValue",
  [TranslatableString.DecrementAriaLabel]: "rjsfDecrease",
  [TranslatableString.IncrementAriaLabel]: "rjsfIncrease",
  [TranslatableString.OptionalObjectAdd]: "rjsfAdd",
  [TranslatableString.OptionalObjectRemove]: "rjsfRemove",
};

/** The `translateString` for a Form in `lang`. */
export function formStrings(lang: Lang): (s: TranslatableString, params?: string[]) => string {
  return (s, params) => {
    if (s === TranslatableString.OptionPrefix) return translate(lang, "rjsfOption", { n: params?.[0] ?? "" });
    const key = KEYS[s];
    if (!key) return englishStringTranslator(s, params);
    return replaceStringParameters(translate(lang, key), params);
  };
}
