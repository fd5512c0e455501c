// Texts of priority: [en, nl, de]. Schedule priority (D5) and run records on the schedules page.
export const priorityTexts = {
  prioOrder: ["Order", "Volgorde", "Reihenfolge"],
  prioHelp: [
    "Workflows due at the same moment run in this order, top first. A customer an earlier workflow acted on in that run is skipped by the later ones, unless their trigger says to act on it as well. Drag a row, or use the arrows, to change the order.",
    "Workflows die op hetzelfde moment aan de beurt zijn, lopen in deze volgorde, van boven naar beneden. Een klant waarop een eerdere workflow in die run actie ondernam, wordt door de latere overgeslagen, tenzij hun trigger zegt dat ze ook dan handelen. Sleep een rij, of gebruik de pijlen, om de volgorde te wijzigen.",
    "Workflows, die zum selben Zeitpunkt fällig sind, laufen in dieser Reihenfolge, von oben nach unten. Ein Kunde, bei dem ein früherer Workflow in diesem Lauf gehandelt hat, wird von den späteren übersprungen, es sei denn, ihr Auslöser sagt, dass sie auch dann handeln. Ziehen Sie eine Zeile oder nutzen Sie die Pfeile, um die Reihenfolge zu ändern.",
  ],
  prioDrag: ["Drag to change the order of {name}", "Sleep om de volgorde van {name} te wijzigen", "Ziehen, um die Reihenfolge von {name} zu ändern"],
  prioUp: ["Move {name} up", "{name} omhoog", "{name} nach oben"],
  prioDown: ["Move {name} down", "{name} omlaag", "{name} nach unten"],
  prioMoved: ["{name} is now number {n}.", "{name} staat nu op plaats {n}.", "{name} ist jetzt an Stelle {n}."],
  prioAlsoActed: ["Also acts on customers handled earlier", "Handelt ook bij eerder behandelde klanten", "Handelt auch bei früher behandelten Kunden"],
  prioRanNow: [
    "{name} ran now: {selected} selected, {acted} acted on, {skipped} skipped.",
    "{name} is nu uitgevoerd: {selected} geselecteerd, {acted} behandeld, {skipped} overgeslagen.",
    "{name} wurde jetzt ausgeführt: {selected} ausgewählt, {acted} bearbeitet, {skipped} übersprungen.",
  ],
  prioShowSkipped: ["Who was skipped and why", "Wie is overgeslagen en waarom", "Wer übersprungen wurde und warum"],
  prioNoneSkipped: ["Nobody was skipped.", "Niemand is overgeslagen.", "Niemand wurde übersprungen."],
  prioSkipOpen: [
    "this workflow still runs on this customer",
    "deze workflow loopt nog bij deze klant",
    "dieser Workflow läuft bei diesem Kunden noch",
  ],
  prioSkipEarlier: [
    "acted on by {flow} in this slot",
    "behandeld door {flow} in deze run",
    "bearbeitet von {flow} in diesem Lauf",
  ],
  prioSkipRepeated: [
    "acted on by this workflow in this slot already",
    "al behandeld door deze workflow in deze run",
    "von diesem Workflow in diesem Lauf schon bearbeitet",
  ],
  prioSkipRefused: ["not started: {reason}", "niet gestart: {reason}", "nicht gestartet: {reason}"],
  // The trigger form (flow/declared.ts): ScheduleTrigger.also_if_acted_on.
  trgAlsoIfActedOn: [
    "Also act on customers an earlier workflow acted on in the same run",
    "Ook handelen bij klanten die een eerdere workflow in dezelfde run behandelde",
    "Auch bei Kunden handeln, die ein früherer Workflow im selben Lauf bearbeitet hat",
  ],
  trgAlsoIfActedOnHelp: [
    "Off: a customer an earlier workflow in the schedules' order acted on at the same time is skipped (reminder, then first notice, then call). On: this workflow acts on them as well.",
    "Uit: een klant die een eerdere workflow in de volgorde van de planningen op hetzelfde moment behandelde, wordt overgeslagen (herinnering, dan eerste aanmaning, dan bellen). Aan: deze workflow handelt ook bij hen.",
    "Aus: Ein Kunde, den ein früherer Workflow in der Reihenfolge der Zeitpläne zur selben Zeit bearbeitet hat, wird übersprungen (Erinnerung, dann erste Mahnung, dann Anruf). An: Dieser Workflow handelt auch bei ihnen.",
  ],
} satisfies Record<string, [string, string, string]>;
