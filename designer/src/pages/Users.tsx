// Placeholder: replaced by the page itself.
export function UsersPage(_props: Record<string, unknown>) {
  return <div className="page" data-testid="users-page" />;
}
