// What the debtor did in the portal: promises, arrangements and their plans (M3, M5).
export function PortalActivityCard({ subjectId }: { subjectId: string }) {
  void subjectId;
  return null;
}
