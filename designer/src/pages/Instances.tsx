// Placeholder: replaced by the page itself.
export function InstancesPage(_props: Record<string, unknown>) {
  return <div className="page" data-testid="instances-page" />;
}
