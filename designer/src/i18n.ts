// UI texts in the three languages of Procedo's users; node labels come from the catalogue.
import { createContext, useContext } from "react";
import type { Labels, Lang } from "./types";

const T = {
  signIn: ["Sign in", "Inloggen", "Anmelden"],
  signOut: ["Sign out", "Uitloggen", "Abmelden"],
  tenant: ["Organisation", "Organisatie", "Organisation"],
  email: ["Email", "E-mail", "E-Mail"],
  password: ["Password", "Wachtwoord", "Passwort"],
  flows: ["Flows", "Flows", "Abläufe"],
  inbox: ["Inbox", "Inbox", "Posteingang"],
  running: ["Running", "Lopend", "Laufend"],
  name: ["Name", "Naam", "Name"],
  key: ["Key", "Sleutel", "Schlüssel"],
  latestVersion: ["Latest version", "Laatste versie", "Letzte Version"],
  state: ["State", "Status", "Status"],
  draft: ["Draft", "Concept", "Entwurf"],
  published: ["Published", "Gepubliceerd", "Veröffentlicht"],
  openInstances: ["Open instances", "Open instanties", "Offene Instanzen"],
  lastChange: ["Last change", "Laatste wijziging", "Letzte Änderung"],
  newFlow: ["New flow", "Nieuwe flow", "Neuer Ablauf"],
  import: ["Import", "Importeren", "Importieren"],
  export: ["Export", "Exporteren", "Exportieren"],
  duplicate: ["Duplicate", "Dupliceren", "Duplizieren"],
  delete: ["Delete", "Verwijderen", "Löschen"],
  open: ["Open", "Openen", "Öffnen"],
  cancel: ["Cancel", "Annuleren", "Abbrechen"],
  create: ["Create", "Aanmaken", "Erstellen"],
  dropHere: ["Drop a flow file anywhere to import it", "Sleep een flowbestand hierheen om te importeren", "Ablaufdatei hier ablegen zum Importieren"],
  save: ["Save draft", "Concept opslaan", "Entwurf speichern"],
  saved: ["Saved", "Opgeslagen", "Gespeichert"],
  unsaved: ["Unsaved changes", "Niet opgeslagen", "Ungespeichert"],
  publish: ["Publish", "Publiceren", "Veröffentlichen"],
  versions: ["Versions", "Versies", "Versionen"],
  problems: ["Problems", "Problemen", "Probleme"],
  noProblems: ["No problems", "Geen problemen", "Keine Probleme"],
  validating: ["Checking…", "Controleren…", "Prüfen…"],
  palette: ["Nodes", "Blokken", "Bausteine"],
  search: ["Search", "Zoeken", "Suchen"],
  params: ["Parameters", "Parameters", "Parameter"],
  label: ["Label", "Label", "Beschriftung"],
  nodeId: ["Id", "Id", "Id"],
  flowSettings: ["Flow", "Flow", "Ablauf"],
  subjectType: ["Subject type", "Onderwerptype", "Objekttyp"],
  description: ["Description", "Omschrijving", "Beschreibung"],
  layout: ["Auto-layout", "Automatisch schikken", "Automatisch anordnen"],
  fitView: ["Fit view", "Passend maken", "Einpassen"],
  undo: ["Undo", "Ongedaan maken", "Rückgängig"],
  redo: ["Redo", "Opnieuw", "Wiederholen"],
  shortcuts: ["Keyboard shortcuts", "Sneltoetsen", "Tastenkürzel"],
  conflict: ["Someone else changed this flow", "Iemand anders heeft deze flow gewijzigd", "Jemand anderes hat diesen Ablauf geändert"],
  reload: ["Reload their version", "Hun versie laden", "Deren Version laden"],
  readOnly: ["Read-only", "Alleen lezen", "Nur lesen"],
  backToDraft: ["Back to the draft", "Terug naar concept", "Zurück zum Entwurf"],
  compare: ["Compare", "Vergelijken", "Vergleichen"],
  changedNodes: ["Changed nodes", "Gewijzigde blokken", "Geänderte Bausteine"],
  instances: ["Instances", "Instanties", "Instanzen"],
  history: ["History", "Geschiedenis", "Verlauf"],
  moveHere: ["Move the instance here", "Instantie hierheen verplaatsen", "Instanz hierher verschieben"],
  reason: ["Reason", "Reden", "Grund"],
  move: ["Move", "Verplaatsen", "Verschieben"],
  myTasks: ["My tasks", "Mijn taken", "Meine Aufgaben"],
  roleTasks: ["My roles' tasks", "Taken van mijn rollen", "Aufgaben meiner Rollen"],
  overdue: ["Overdue", "Te laat", "Überfällig"],
  due: ["Due", "Uiterlijk", "Fällig"],
  instructions: ["Instructions", "Instructies", "Anweisungen"],
  checkpoints: ["Checkpoints", "Controlepunten", "Prüfpunkte"],
  mandatory: ["mandatory", "verplicht", "Pflicht"],
  claim: ["Claim", "Oppakken", "Übernehmen"],
  openOnes: ["open", "open", "offen"],
  allOnes: ["all", "alle", "alle"],
  dragMarker: ["Drag the green marker onto another node to move the instance there.", "Sleep de groene markering naar een ander blok om de instantie daarheen te verplaatsen.", "Ziehen Sie die grüne Markierung auf einen anderen Baustein, um die Instanz dorthin zu verschieben."],
  manySelected: ["{n} nodes selected. Ctrl+C copies them as JSON.", "{n} blokken geselecteerd. Ctrl+C kopieert ze als JSON.", "{n} Bausteine ausgewählt. Strg+C kopiert sie als JSON."],
  jsonHelp: ["The selection (or the whole flow) as JSON. Paste nodes from another flow here, or press Ctrl+V on the canvas.", "De selectie (of de hele flow) als JSON. Plak hier blokken uit een andere flow, of druk Ctrl+V op het canvas.", "Die Auswahl (oder der ganze Ablauf) als JSON. Fügen Sie hier Bausteine aus einem anderen Ablauf ein, oder drücken Sie Strg+V auf der Fläche."],
  pickTask: ["Pick a task on the left to work on it.", "Kies links een taak om eraan te werken.", "Wählen Sie links eine Aufgabe aus."],
  noTasks: ["Nothing to do. Enjoy your coffee.", "Niets te doen. Geniet van je koffie.", "Nichts zu tun. Genießen Sie Ihren Kaffee."],
  matches: ["matches {n} of {m} subjects", "klopt voor {n} van {m} onderwerpen", "trifft auf {n} von {m} Objekten zu"],
  textMode: ["Text", "Tekst", "Text"],
  builderMode: ["Builder", "Bouwer", "Baukasten"],
  addCondition: ["+ Condition", "+ Voorwaarde", "+ Bedingung"],
  addGroup: ["+ Group", "+ Groep", "+ Gruppe"],
  allOf: ["ALL of (and)", "ALLE (en)", "ALLE (und)"],
  anyOf: ["ANY of (or)", "EEN VAN (of)", "EINE (oder)"],
  notGroup: ["NOT", "NIET", "NICHT"],
  apply: ["Apply", "Toepassen", "Übernehmen"],
  nothingSelected: ["Select a node to edit it, or drag one from the palette.", "Kies een blok om te bewerken, of sleep er een uit het palet.", "Wählen Sie einen Baustein oder ziehen Sie einen aus der Palette."],
  loading: ["Loading…", "Laden…", "Laden…"],
  close: ["Close", "Sluiten", "Schließen"],
  version: ["Version", "Versie", "Version"],
  by: ["by", "door", "von"],
  path: ["Path", "Pad", "Pfad"],
  status: ["Status", "Status", "Status"],
  subject: ["Subject", "Onderwerp", "Objekt"],
  flow: ["Flow", "Flow", "Ablauf"],
  pasteJson: ["Paste flow JSON", "Flow-JSON plakken", "Ablauf-JSON einfügen"],
  nothingToPublish: ["Nothing to publish: no change since version {n}", "Niets te publiceren: niets gewijzigd sinds versie {n}", "Nichts zu veröffentlichen: keine Änderung seit Version {n}"],
  fixProblems: ["Solve the problems first", "Los eerst de problemen op", "Zuerst die Probleme lösen"],
  checking: ["Still checking the flow…", "De flow wordt nog gecontroleerd…", "Der Ablauf wird noch geprüft…"],
  notFound: ["Page not found", "Pagina niet gevonden", "Seite nicht gefunden"],
  notFoundHelp: ["There is no page at {path}.", "Er is geen pagina op {path}.", "Unter {path} gibt es keine Seite."],
  completed: ["{task}: {outcome}", "{task}: {outcome}", "{task}: {outcome}"],
} satisfies Record<string, [string, string, string]>;

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
