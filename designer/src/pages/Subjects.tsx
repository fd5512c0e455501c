// Placeholder: replaced by the page itself.
export function SubjectsPage(_props: Record<string, unknown>) {
  return <div className="page" data-testid="subjects-page" />;
}
