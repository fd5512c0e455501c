// Texts of dunning: the approval list (D4), task types (D2) and their history: [en, nl, de].
export const dunningTexts = {
  // the approval list
  dunApprovalsIntro: [
    "Actions of workflows that need approval. Nothing of it goes out until it is approved; a rejected one does not go out.",
    "Acties van workflows die goedkeuring vragen. Er gaat niets uit voordat het is goedgekeurd; een afgewezen actie gaat niet uit.",
    "Aktionen von Workflows, die eine Freigabe brauchen. Nichts davon geht hinaus, bevor es freigegeben ist; eine abgelehnte Aktion geht nicht hinaus.",
  ],
  dunNone: ["Nothing waits for your approval.", "Er wacht niets op uw goedkeuring.", "Nichts wartet auf Ihre Freigabe."],
  dunColDebtor: ["Debtor", "Debiteur", "Debitor"],
  dunColWorkflow: ["Workflow", "Workflow", "Workflow"],
  dunColAction: ["Proposed action", "Voorgestelde actie", "Vorgeschlagene Aktion"],
  dunColSince: ["Waiting since", "Wacht sinds", "Wartet seit"],
  dunApprove: ["Approve", "Goedkeuren", "Freigeben"],
  dunReject: ["Reject", "Afwijzen", "Ablehnen"],
  dunApproveSelected: ["Approve selected ({n})", "Selectie goedkeuren ({n})", "Auswahl freigeben ({n})"],
  dunRejectSelected: ["Reject selected ({n})", "Selectie afwijzen ({n})", "Auswahl ablehnen ({n})"],
  dunApproved: ["{n} approved.", "{n} goedgekeurd.", "{n} freigegeben."],
  dunRejected: ["{n} rejected.", "{n} afgewezen.", "{n} abgelehnt."],
  dunPreview: ["Preview", "Voorbeeld", "Vorschau"],
  dunHidePreview: ["Hide preview", "Voorbeeld verbergen", "Vorschau ausblenden"],
  dunEmailTo: ["Email to {to}: {subject}", "E-mail aan {to}: {subject}", "E-Mail an {to}: {subject}"],
  dunLetter: ["Letter by post: {subject}", "Brief per post: {subject}", "Brief per Post: {subject}"],
  dunTemplate: ["from the template {name}", "uit het sjabloon {name}", "aus der Vorlage {name}"],
  dunSetField: ["Set {field} to {value}", "{field} wordt {value}", "{field} wird {value}"],
  dunIncrement: ["Raise {field} by {value}", "{field} met {value} verhogen", "{field} um {value} erhöhen"],
  dunStatus: ["Status becomes {value}", "Status wordt {value}", "Status wird {value}"],
  dunTask: ["Task: {subject}", "Taak: {subject}", "Aufgabe: {subject}"],
  dunNothingProposed: ["Nothing (the flow no longer waits here)", "Niets (de flow wacht hier niet meer)", "Nichts (der Ablauf wartet hier nicht mehr)"],
  dunWhoMay: [
    "Members of the role an approval is for decide it; administrators may decide all.",
    "Leden van de rol waarvoor een goedkeuring is beslissen erover; beheerders mogen alles beslissen.",
    "Mitglieder der Rolle, für die eine Freigabe bestimmt ist, entscheiden sie; Administratoren dürfen alle entscheiden.",
  ],
  // task types (inbox and all tasks)
  dunTypeFilter: ["Type", "Soort", "Typ"],
  dunAnyType: ["All types", "Alle soorten", "Alle Typen"],
  dunType_general: ["General task", "Algemene taak", "Allgemeine Aufgabe"],
  dunType_phone_call: ["Phone call", "Telefoongesprek", "Telefonanruf"],
  dunType_lawyer_handover: ["Lawyer handover", "Overdracht aan advocaat", "Anwaltsübergabe"],
  dunType_approval: ["Approval", "Goedkeuring", "Freigabe"],
  // problems
  "problem:assign_role.approval.outcomes": [
    "{where}: an approval has two outcomes: the first approves, the second rejects.",
    "{where}: een goedkeuring heeft twee uitkomsten: de eerste keurt goed, de tweede wijst af.",
    "{where}: Eine Freigabe hat zwei Ergebnisse: das erste gibt frei, das zweite lehnt ab.",
  ],
  // history
  dunHApproved: ["{actor} approved {title}", "{actor} heeft {title} goedgekeurd", "{actor} hat {title} freigegeben"],
  dunHRejected: ["{actor} rejected {title}", "{actor} heeft {title} afgewezen", "{actor} hat {title} abgelehnt"],
};
