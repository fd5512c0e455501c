// Placeholder: replaced by the page itself.
export function SubjectPage(_props: Record<string, unknown>) {
  return <div className="page" data-testid="subject-page" />;
}
