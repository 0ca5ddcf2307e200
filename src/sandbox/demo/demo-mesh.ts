// The demo mesh as seed objects: istio-system (istiod, ingress gateway, mesh config) and bookinfo
// with its traffic rules, read from the YAML files beside this module. Scenario namespaces live in
// their own files in this folder; load them with demoFile().
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubeObject } from '../../kube/objects.ts';
import { parseSeedYaml } from '../seed.ts';

export const DEMO_DIR = dirname(fileURLToPath(import.meta.url));

/** The files that make up the base demo mesh, in load order. */
export const DEMO_MESH_FILES = ['istio-system.yaml', 'bookinfo.yaml', 'bookinfo-networking.yaml'] as const;

/** Objects from one YAML file in the demo folder. */
export function demoFile(name: string): KubeObject[] {
  const path = join(DEMO_DIR, name);
  return parseSeedYaml(readFileSync(path, 'utf8'), { source: path });
}

/** Fresh copies of the base demo mesh's objects (no pods: the sandbox's controllers make them). */
export function demoMeshObjects(): KubeObject[] {
  return DEMO_MESH_FILES.flatMap((f) => demoFile(f));
}
