import type { Problem } from "./types";

export function download(filename: string, text: string, type = "application/json"): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// A moment in the UI's language; in ``timeZone`` (IANA, named after the time) when given,
// else the browser's.
export function when(value: string | null | undefined, lang: string, timeZone?: string): string {
  if (!value) return "";
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return value;
  if (!timeZone) return d.toLocaleString(lang, { dateStyle: "medium", timeStyle: "short" });
  try {
    const day = d.toLocaleDateString(lang, { dateStyle: "medium", timeZone });
    const time = d.toLocaleTimeString(lang, { hour: "numeric", minute: "2-digit", timeZoneName: "short", timeZone });
    return `${day}, ${time}`;
  } catch {
    return d.toLocaleString(lang, { dateStyle: "medium", timeStyle: "short" });  // an unknown zone
  }
}

export function problemPlace(p: Problem): string {
  const parts = [];
  if (p.node) parts.push(p.node);
  if (p.edge) parts.push(p.edge);
  if (p.path) parts.push(p.path);
  if (p.line) parts.push(`line ${p.line}${p.column ? `:${p.column}` : ""}`);
  return parts.join(" · ");
}

export function slug(text: string): string {
  return text
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60);
}
