// Placeholder: replaced by the page itself.
export function SchedulesPage(_props: Record<string, unknown>) {
  return <div className="page" data-testid="schedules-page" />;
}
