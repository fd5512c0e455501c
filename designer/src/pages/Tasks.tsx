// Placeholder: replaced by the page itself.
export function AllTasksPage(_props: Record<string, unknown>) {
  return <div className="page" data-testid="tasks-page" />;
}
