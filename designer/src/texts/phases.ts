// Texts of phases: [en, nl, de]. Filled by the work on that area.
export const phasesTexts = {
  phTickedBy: ["ticked by {who}, {when}", "afgevinkt door {who}, {when}", "abgehakt von {who}, {when}"],
  phProgress: ["{done} ticked", "{done} afgevinkt", "{done} abgehakt"],
  phBlocked: ["Tick the mandatory checkpoints first: {names}", "Vink eerst de verplichte controlepunten af: {names}", "Zuerst die Pflichtpunkte abhaken: {names}"],
  phTickFailed: ["The checkpoint could not be saved: {reason}", "Het controlepunt kon niet worden opgeslagen: {reason}", "Der Prüfpunkt konnte nicht gespeichert werden: {reason}"],
  phHistTicked: ["{actor} ticked {label} in {node}", "{actor} heeft {label} afgevinkt in {node}", "{actor} hat {label} in {node} abgehakt"],
  phHistUnticked: ["{actor} unticked {label} in {node}", "{actor} heeft {label} weer uitgevinkt in {node}", "{actor} hat das Häkchen bei {label} in {node} entfernt"],
};
