// Placeholder: replaced by the page itself.
export function OutboxPage(_props: Record<string, unknown>) {
  return <div className="page" data-testid="outbox-page" />;
}
