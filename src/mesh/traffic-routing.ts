// Which VirtualServices and DestinationRules concern a Service (and the pods behind it), summarized
// as plain data plus words: route matches, weights, subsets, traffic policies. The parts live beside
// this file, and this one re-exports them so importers keep one name to reach for:
//   object-ref.ts         how a summary names the object it is about
//   virtual-services.ts   VirtualServices: routes, matches, destinations, warnings
//   destination-rules.ts  DestinationRules: subsets and traffic policies
//   ingress-exposure.ts   where a service is reachable from outside, through a Gateway
//   pod-lookups.ts        a pod's phase, and the container port a Service port targets
export { refOf, refText } from './object-ref.ts';
export type { ObjectRef } from './object-ref.ts';
export { labelText, virtualServicesForService } from './virtual-services.ts';
export type {
  RouteDestinationSummary,
  RouteMatch,
  RouteSummary,
  UriMatch,
  VirtualServiceSummary,
} from './virtual-services.ts';
export { destinationRulesForService, subsetIndexOf } from './destination-rules.ts';
export type {
  DestinationRuleSummary,
  PolicySummary,
  PortPolicySummary,
  ShortPolicy,
  SubsetIndex,
} from './destination-rules.ts';
export { ingressExposure } from './ingress-exposure.ts';
export type { IngressExposure } from './ingress-exposure.ts';
export { podPhase, targetPortOn } from './pod-lookups.ts';
