export function RunningPage({ flowKey }: { flowKey: string }) { return <div className="page">{flowKey}</div>; }
