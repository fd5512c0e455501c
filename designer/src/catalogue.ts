import { useEffect, useState } from "react";
import { api } from "./api";
import type { NodeTypeInfo } from "./types";

let cached: Promise<NodeTypeInfo[]> | null = null;

export function loadCatalogue(): Promise<NodeTypeInfo[]> {
  if (!cached) {
    cached = api.nodeTypes().catch((e) => {
      cached = null;
      throw e;
    });
  }
  return cached;
}

export function useCatalogue(): Map<string, NodeTypeInfo> | null {
  const [map, setMap] = useState<Map<string, NodeTypeInfo> | null>(null);
  useEffect(() => {
    loadCatalogue().then((list) => setMap(new Map(list.map((n) => [n.type, n]))), () => setMap(new Map()));
  }, []);
  return map;
}

const subjectTypes = new Map<string, Promise<Record<string, unknown> | null>>();
export function loadSubjectType(name: string): Promise<Record<string, unknown> | null> {
  if (!subjectTypes.has(name)) subjectTypes.set(name, api.subjectType(name).catch(() => null));
  return subjectTypes.get(name)!;
}

let allSubjectTypes: Promise<Record<string, unknown>[]> | null = null;
/** Every subject type of the tenant (name, labels, fields, statuses), read once. */
export function loadSubjectTypes(): Promise<Record<string, unknown>[]> {
  if (!allSubjectTypes) {
    allSubjectTypes = api.subjectTypes().then(
      (list) => (Array.isArray(list) ? (list as Record<string, unknown>[]) : []),
      () => {
        allSubjectTypes = null;
        return [];
      },
    );
  }
  return allSubjectTypes;
}
