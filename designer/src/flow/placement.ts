// Where a node added from the palette goes: the spot asked for (the view's centre,
// or where it was dropped) when that is free, else the nearest free spot around it,
// so new nodes never pile up on each other or on the start.

export interface Point {
  x: number;
  y: number;
}

export interface Box extends Point {
  width: number;
  height: number;
}

/** A node's size before React Flow has measured it (about what NodeView draws). */
export const NEW_NODE_SIZE = { width: 220, height: 90 };
/** Space kept clear around every node, so ports and edges stay readable. */
const GAP = 30;
/** Candidate spots are this far apart; rings of them widen around the spot asked for. */
const STEP = 40;
const RINGS = 60;

function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.width + GAP && b.x < a.x + a.width + GAP && a.y < b.y + b.height + GAP && b.y < a.y + a.height + GAP;
}

/**
 * The top-left corner for a new node of `size`: `want` itself when it overlaps none of
 * `taken`, else the nearest free candidate (below and to the right win a tie, the way
 * a flow reads).
 */
export function freeSpot(taken: Box[], want: Point, size: { width: number; height: number } = NEW_NODE_SIZE): Point {
  const fits = (p: Point) => !taken.some((b) => overlaps({ ...p, ...size }, b));
  for (let ring = 0; ring <= RINGS; ring += 1) {
    let best: Point | null = null;
    let bestScore = Infinity;
    for (let dx = -ring; dx <= ring; dx += 1) {
      for (let dy = -ring; dy <= ring; dy += 1) {
        if (Math.max(Math.abs(dx), Math.abs(dy)) !== ring) continue; // the ring's edge only
        const spot = { x: want.x + dx * STEP, y: want.y + dy * STEP };
        // Distance first; a small bonus for below/right breaks ties the reading way.
        const score = Math.hypot(dx, dy) - (dy > 0 ? 0.01 : 0) - (dx > 0 ? 0.005 : 0);
        if (score < bestScore && fits(spot)) {
          best = spot;
          bestScore = score;
        }
      }
    }
    if (best) return best;
  }
  // Everything near is full: below the lowest node.
  const bottom = Math.max(...taken.map((b) => b.y + b.height));
  return { x: want.x, y: bottom + GAP };
}

/** The box a canvas node takes: its measured size once drawn. */
export function boxOf(node: { position: Point; measured?: { width?: number; height?: number } }): Box {
  return {
    x: node.position.x,
    y: node.position.y,
    width: node.measured?.width ?? NEW_NODE_SIZE.width,
    height: node.measured?.height ?? NEW_NODE_SIZE.height,
  };
}
