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
