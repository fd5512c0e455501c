// Every procedure of a debtor on a time axis (P6).
export function ProcedureTimelineCard({ subjectId }: { subjectId: string }) {
  void subjectId;
  return null;
}
