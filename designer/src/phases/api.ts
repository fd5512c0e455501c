// Checkpoints of a task, ticked one by one (K2): POST /tasks/{id}/tick.
import { request } from "../api";

/** Tick (or untick) one checkpoint; the server answers the task as it is now. */
export async function tickCheckpoint<T>(taskId: string, checkpoint: string, ticked: boolean): Promise<T> {
  const { data } = await request<T>(`/tasks/${encodeURIComponent(taskId)}/tick`, {
    method: "POST",
    body: { checkpoint, ticked },
  });
  return data;
}
