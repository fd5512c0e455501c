// Whether Publish can be pressed, and if not why: the button says so in its tooltip.

export type PublishState = "ready" | "problems" | "checking" | "unchanged";

export interface PublishInputs {
  problems: number;
  /** the server has not yet answered for what the canvas shows */
  checking: boolean;
  /** the flow as the canvas shows it (stable JSON) */
  current: string;
  /** the latest published version (stable JSON); null when never published or not yet read */
  published: string | null;
}

export function publishState({ problems, checking, current, published }: PublishInputs): PublishState {
  // Nothing changed since the last version: publishing would be refused (409), so say it first.
  if (published !== null && current === published) return "unchanged";
  if (checking) return "checking";
  if (problems > 0) return "problems";
  return "ready";
}
