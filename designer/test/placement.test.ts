import { describe, expect, it } from "vitest";
import { boxOf, freeSpot, NEW_NODE_SIZE, type Box } from "../src/flow/placement";

const overlap = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
const box = (p: { x: number; y: number }): Box => ({ ...p, ...NEW_NODE_SIZE });

describe("where a new node goes", () => {
  it("takes the spot asked for when it is free", () => {
    const start = boxOf({ position: { x: 0, y: 0 }, measured: { width: 200, height: 60 } });
    expect(freeSpot([start], { x: 600, y: 400 })).toEqual({ x: 600, y: 400 });
  });

  it("never lands on the start or on the nodes added before it", () => {
    // The view's centre is on the start, as it is in a new flow: every node added there.
    const taken: Box[] = [boxOf({ position: { x: 0, y: 0 }, measured: { width: 200, height: 60 } })];
    for (let i = 0; i < 12; i += 1) {
      const spot = box(freeSpot(taken, { x: 0, y: 0 }));
      for (const other of taken) expect(overlap(spot, other)).toBe(false);
      taken.push(spot);
    }
    // ... and they stay near: all within a few node sizes of the spot asked for.
    for (const b of taken) expect(Math.hypot(b.x, b.y)).toBeLessThan(1200);
  });

  it("goes below rather than above when both are as near", () => {
    const start = box({ x: 0, y: 0 });
    expect(freeSpot([start], { x: 0, y: 0 }).y).toBeGreaterThan(0);
  });
});
