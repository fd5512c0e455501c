// Small inline icons per node category (no icon font, nothing fetched).
const PATHS: Record<string, string> = {
  flow: "M4 12h10M10 6l6 6-6 6",
  logic: "M6 4v6a4 4 0 004 4h8M14 10l4 4-4 4M6 20v-4",
  people: "M12 12a4 4 0 100-8 4 4 0 000 8zM4 21a8 8 0 0116 0",
  time: "M12 7v5l3 3M12 21a9 9 0 100-18 9 9 0 000 18z",
  messages: "M3 6h18v12H3zM3 6l9 7 9-7",
  data: "M4 6c0-1.7 3.6-3 8-3s8 1.3 8 3-3.6 3-8 3-8-1.3-8-3zM4 6v12c0 1.7 3.6 3 8 3s8-1.3 8-3V6M4 12c0 1.7 3.6 3 8 3s8-1.3 8-3",
};

export function CategoryIcon({ category, size = 16 }: { category: string; size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={2} strokeLinecap="round" strokeLinejoin="round" aria-hidden>
      <path d={PATHS[category] ?? "M12 12m-4 0a4 4 0 108 0 4 4 0 10-8 0"} />
    </svg>
  );
}

// Toolbar icons: shown instead of a button's text when the window is narrow.
const TOOL_PATHS: Record<string, string> = {
  layout: "M3 5h6v5H3zM15 14h6v5h-6zM15 5h6v5h-6zM9 7.5h6M18 10v4",
  fit: "M4 9V4h5M15 4h5v5M20 15v5h-5M9 20H4v-5",
  versions: "M12 8v4l3 2M3 12a9 9 0 109-9 9 9 0 00-6.4 2.6L3 8M3 3v5h5",
  running: "M6 4l14 8-14 8z",
  export: "M12 3v12M7 10l5 5 5-5M4 21h16",
};

/** A toolbar button's content: icon and text; below a width the text hides (styles.css). */
export function ToolLabel({ icon, text }: { icon: string; text: string }) {
  return (
    <>
      <svg className="tool-icon" width={16} height={16} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={2} strokeLinecap="round" strokeLinejoin="round" aria-hidden>
        <path d={TOOL_PATHS[icon] ?? ""} />
      </svg>
      <span className="tool-text">{text}</span>
    </>
  );
}
