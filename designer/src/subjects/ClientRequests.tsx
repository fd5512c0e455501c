// What the office asked a client for and what came back; returns awaiting the client's approval (K3, K4).
export function ClientRequestsCard({ subjectId }: { subjectId: string }) {
  void subjectId;
  return null;
}
