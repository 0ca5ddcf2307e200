// istioctl proxy-config's text writers as pure functions: a parsed /config_dump (or /clusters?format=json
// for `endpoints`) in, the exact text istioctl prints out. See docs/architecture.md (src/envoy/).
export { allDump, type AllFilter, type AllOptions, allSummary } from './all.ts';
export { bootstrapDump, bootstrapSummary, type ProxyVersions, proxyVersions } from './bootstrap.ts';
export { type ClusterFilter, clusterDump, clusterSummary, sortedClusters } from './clusters.ts';
export {
  type EnvoyConfigDump,
  parseEnvoyConfigDump,
  ProxyConfigError,
  type StructuredFormat,
  type SummaryOptions,
} from './dump.ts';
export { ecdsDump, ecdsFilters, ecdsSummary } from './ecds.ts';
export { edsDump, type EndpointFilter, edsSummary, sortedEndpoints } from './eds.ts';
export {
  type ClustersEndpointFilter,
  type EnvoyClusters,
  endpointDump,
  endpointRows,
  endpointSummary,
  type HostRow,
  parseEnvoyClusters,
} from './endpoints.ts';
export { type ListenerFilter, listenerDump, listenerSummary, listenerType } from './listeners.ts';
export { ALL_LOGGERS, type EnvoyLogLevel, parseLogLevels } from './log-levels.ts';
export { remoteClustersTable } from './remote-clusters.ts';
export { describeRouteDomains, type RouteFilter, routeDump, routeSummary } from './routes.ts';
export { type SecretItem, type SecretOptions, secretDump, secretSummary, secretSummaryItems } from './secrets.ts';
export { tabwriter } from './tabwriter.ts';
export {
  parseZtunnelDump,
  type ZtunnelDump,
  type ZtunnelWorkloadFilter,
  ztunnelPolicySummary,
  ztunnelSecretSummary,
  ztunnelServiceSummary,
  ztunnelWorkloadSummary,
} from './ztunnel.ts';
export {
  type ConnectionsFilter,
  ztunnelAllSummary,
  ztunnelConnectionsDump,
  ztunnelConnectionsSummary,
} from './ztunnel-connections.ts';
