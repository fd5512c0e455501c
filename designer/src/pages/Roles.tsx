// Placeholder: replaced by the page itself.
export function RolesPage(_props: Record<string, unknown>) {
  return <div className="page" data-testid="roles-page" />;
}
