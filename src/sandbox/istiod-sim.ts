// The sandbox's simulated istiod, under the name its importers use: the model (istiod-model.ts), one
// istiod pod's HTTP side (istiod-pod.ts), a demo mesh's istiods built from a scenario
// (istiod-mesh-sync.ts), and the fleet that follows the sandbox's pods (istiod-fleet.ts).
export { type FleetFaults, IstiodFleet, type IstiodFleetOptions, type PodSource } from './istiod-fleet.ts';
export { buildMeshSync, type MeshSyncScenario, type ProxyPodRef } from './istiod-mesh-sync.ts';
export {
  type ConnectOptions,
  DEFAULT_WATCHED_TYPES,
  DEMO_NACK_MESSAGES,
  ISTIOD_MONITORING_PORT,
  ISTIOD_READY_PORT,
  type IstiodLogEntry,
  type IstiodSimOptions,
  type SimProxy,
  type SimWatch,
  type SynczEntry,
  TYPE_URL,
} from './istiod-model.ts';
export { IstiodSim } from './istiod-pod.ts';
