// Pure logic of a task's checkpoints in the inbox (K2): what blocks completing, who ticked.

export interface CheckpointDef {
  id: string;
  label: string;
  mandatory?: boolean;
}

export interface Tick {
  by: string;
  at: string;
}

export interface Ticking {
  checkpoints: CheckpointDef[];
  ticked?: string[];
  ticks?: Record<string, Tick>;
}

/** The mandatory checkpoints not ticked yet: while there are any, the task cannot complete. */
export function openMandatory(task: Ticking): CheckpointDef[] {
  const ticked = new Set(task.ticked ?? []);
  return task.checkpoints.filter((c) => c.mandatory && !ticked.has(c.id));
}

/** Who ticked the checkpoint and when, if it is ticked. */
export function tickOf(task: Ticking, id: string): Tick | null {
  if (!(task.ticked ?? []).includes(id)) return null;
  return task.ticks?.[id] ?? null;
}

/** How many of the checkpoints are ticked: "2/4". */
export function progress(task: Ticking): string {
  const ticked = new Set(task.ticked ?? []);
  return `${task.checkpoints.filter((c) => ticked.has(c.id)).length}/${task.checkpoints.length}`;
}
