// Placeholder: replaced by the page itself.
export function SettingsPage(_props: Record<string, unknown>) {
  return <div className="page" data-testid="settings-page" />;
}
