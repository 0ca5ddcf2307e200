// Zod schemas for the parts of Kubernetes and Istio object specs the workload model reads. Objects
// reach the snapshot untyped; each question narrows only the fields it relies on, and an object
// whose spec does not fit is reported (not thrown) so one bad object cannot hide the rest.
import { z } from 'zod';
import type { KubeObject } from '../kube/objects.ts';

const labels = z.record(z.string(), z.string());
const workloadSelector = z.looseObject({ matchLabels: labels.optional() });
const intOrString = z.union([z.number(), z.string()]);

export const servicePortSchema = z.looseObject({
  name: z.string().optional(),
  port: z.number(),
  targetPort: intOrString.optional(),
  protocol: z.string().optional(),
  appProtocol: z.string().optional(),
});
export type ServicePort = z.infer<typeof servicePortSchema>;

export const serviceSpecSchema = z.looseObject({
  selector: labels.optional(),
  ports: z.array(servicePortSchema).optional(),
  type: z.string().optional(),
});

export const serviceStatusSchema = z.looseObject({
  loadBalancer: z
    .looseObject({
      ingress: z.array(z.looseObject({ ip: z.string().optional(), hostname: z.string().optional() })).optional(),
    })
    .optional(),
});

const containerPortSchema = z.looseObject({
  name: z.string().optional(),
  containerPort: z.number(),
  protocol: z.string().optional(),
});

export const containerSchema = z.looseObject({
  name: z.string(),
  image: z.string().optional(),
  ports: z.array(containerPortSchema).optional(),
  restartPolicy: z.string().optional(),
  securityContext: z.looseObject({ runAsUser: z.number().optional() }).optional(),
  resources: z
    .looseObject({
      requests: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
      limits: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
    })
    .optional(),
});
export type Container = z.infer<typeof containerSchema>;

export const podSpecSchema = z.looseObject({
  containers: z.array(containerSchema).default([]),
  initContainers: z.array(containerSchema).optional(),
  serviceAccountName: z.string().optional(),
  securityContext: z.looseObject({ runAsUser: z.number().optional() }).optional(),
});

const containerStatusSchema = z.looseObject({ name: z.string(), ready: z.boolean().optional() });
export const podStatusSchema = z.looseObject({
  phase: z.string().optional(),
  podIP: z.string().optional(),
  hostIP: z.string().optional(),
  containerStatuses: z.array(containerStatusSchema).optional(),
  initContainerStatuses: z.array(containerStatusSchema).optional(),
});

export const deploymentSpecSchema = z.looseObject({
  selector: z.looseObject({ matchLabels: labels.optional() }).optional(),
  template: z.looseObject({ metadata: z.looseObject({ labels: labels.optional() }).optional() }).optional(),
});

// --- networking.istio.io ---

const stringMatch = z.looseObject({
  exact: z.string().optional(),
  prefix: z.string().optional(),
  regex: z.string().optional(),
});
export type StringMatch = z.infer<typeof stringMatch>;

export const httpMatchSchema = z.looseObject({
  name: z.string().optional(),
  uri: stringMatch.optional(),
  scheme: stringMatch.optional(),
  method: stringMatch.optional(),
  authority: stringMatch.optional(),
  headers: z.record(z.string(), stringMatch).optional(),
  queryParams: z.record(z.string(), stringMatch).optional(),
  ignoreUriCase: z.boolean().optional(),
  port: z.number().optional(),
  sourceLabels: labels.optional(),
  gateways: z.array(z.string()).optional(),
  sourceNamespace: z.string().optional(),
});
export type HttpMatch = z.infer<typeof httpMatchSchema>;

const destination = z.looseObject({
  host: z.string(),
  subset: z.string().optional(),
  port: z.looseObject({ number: z.number().optional() }).optional(),
});
const routeDestination = z.looseObject({ destination, weight: z.number().optional() });
export type RouteDestination = z.infer<typeof routeDestination>;

export const httpRouteSchema = z.looseObject({
  name: z.string().optional(),
  match: z.array(httpMatchSchema).optional(),
  route: z.array(routeDestination).optional(),
  redirect: z.record(z.string(), z.unknown()).optional(),
  rewrite: z.looseObject({ uri: z.string().optional(), authority: z.string().optional() }).optional(),
  timeout: z.string().optional(),
  retries: z
    .looseObject({
      attempts: z.number().optional(),
      perTryTimeout: z.string().optional(),
      retryOn: z.string().optional(),
    })
    .optional(),
  fault: z
    .looseObject({
      delay: z
        .looseObject({
          fixedDelay: z.string().optional(),
          percentage: z.looseObject({ value: z.number().optional() }).optional(),
        })
        .optional(),
      abort: z
        .looseObject({
          httpStatus: z.number().optional(),
          grpcStatus: z.string().optional(),
          percentage: z.looseObject({ value: z.number().optional() }).optional(),
        })
        .optional(),
    })
    .optional(),
  mirror: destination.optional(),
});
export type HttpRoute = z.infer<typeof httpRouteSchema>;

const l4Match = z.looseObject({
  port: z.number().optional(),
  sniHosts: z.array(z.string()).optional(),
  destinationSubnets: z.array(z.string()).optional(),
  sourceLabels: labels.optional(),
  gateways: z.array(z.string()).optional(),
});
export const tcpRouteSchema = z.looseObject({
  match: z.array(l4Match).optional(),
  route: z.array(routeDestination).optional(),
});
export type TcpRoute = z.infer<typeof tcpRouteSchema>;

export const virtualServiceSpecSchema = z.looseObject({
  hosts: z.array(z.string()).default([]),
  gateways: z.array(z.string()).optional(),
  http: z.array(httpRouteSchema).optional(),
  tls: z.array(tcpRouteSchema).optional(),
  tcp: z.array(tcpRouteSchema).optional(),
  exportTo: z.array(z.string()).optional(),
});
export type VirtualServiceSpec = z.infer<typeof virtualServiceSpecSchema>;

const tlsSettings = z.looseObject({
  mode: z.string().optional(),
  sni: z.string().optional(),
  credentialName: z.string().optional(),
});
const trafficPolicyBase = {
  loadBalancer: z.record(z.string(), z.unknown()).optional(),
  connectionPool: z.record(z.string(), z.unknown()).optional(),
  outlierDetection: z.record(z.string(), z.unknown()).optional(),
  tls: tlsSettings.optional(),
};
const portTrafficPolicy = z.looseObject({
  port: z.looseObject({ number: z.number().optional() }).optional(),
  ...trafficPolicyBase,
});
export const trafficPolicySchema = z.looseObject({
  ...trafficPolicyBase,
  portLevelSettings: z.array(portTrafficPolicy).optional(),
});
export type TrafficPolicy = z.infer<typeof trafficPolicySchema>;
export type PortTrafficPolicy = z.infer<typeof portTrafficPolicy>;

export const destinationRuleSpecSchema = z.looseObject({
  host: z.string(),
  trafficPolicy: trafficPolicySchema.optional(),
  subsets: z
    .array(
      z.looseObject({ name: z.string(), labels: labels.optional(), trafficPolicy: trafficPolicySchema.optional() }),
    )
    .optional(),
  exportTo: z.array(z.string()).optional(),
  workloadSelector: workloadSelector.optional(),
});
export type DestinationRuleSpec = z.infer<typeof destinationRuleSpecSchema>;

export const gatewaySpecSchema = z.looseObject({
  selector: labels.optional(),
  servers: z
    .array(
      z.looseObject({
        port: z.looseObject({ number: z.number(), name: z.string().optional(), protocol: z.string().optional() }),
        hosts: z.array(z.string()).default([]),
      }),
    )
    .default([]),
});

export const sidecarSpecSchema = z.looseObject({
  workloadSelector: z.looseObject({ labels: labels.optional() }).optional(),
  egress: z.array(z.looseObject({ hosts: z.array(z.string()).default([]), port: z.unknown().optional() })).optional(),
  ingress: z.array(z.unknown()).optional(),
  outboundTrafficPolicy: z.looseObject({ mode: z.string().optional() }).optional(),
});

// --- security.istio.io ---

const mtls = z.looseObject({ mode: z.string().optional() });
export const peerAuthenticationSpecSchema = z.looseObject({
  selector: workloadSelector.optional(),
  mtls: mtls.optional(),
  // Keys are the workload's (target) port numbers, as strings in YAML/JSON.
  portLevelMtls: z.record(z.string(), mtls).optional(),
});
export type PeerAuthenticationSpec = z.infer<typeof peerAuthenticationSpecSchema>;

const policyTargetRef = z.looseObject({
  group: z.string().optional(),
  kind: z.string(),
  name: z.string(),
  namespace: z.string().optional(),
});
export type PolicyTargetRef = z.infer<typeof policyTargetRef>;

export const authorizationPolicySpecSchema = z.looseObject({
  selector: workloadSelector.optional(),
  targetRef: policyTargetRef.optional(),
  targetRefs: z.array(policyTargetRef).optional(),
  action: z.enum(['ALLOW', 'DENY', 'AUDIT', 'CUSTOM']).default('ALLOW'),
  provider: z.looseObject({ name: z.string().optional() }).optional(),
  rules: z
    .array(
      z.looseObject({
        from: z.array(z.looseObject({ source: z.record(z.string(), z.unknown()).optional() })).optional(),
        to: z.array(z.looseObject({ operation: z.record(z.string(), z.unknown()).optional() })).optional(),
        when: z
          .array(
            z.looseObject({
              key: z.string(),
              values: z.array(z.string()).optional(),
              notValues: z.array(z.string()).optional(),
            }),
          )
          .optional(),
      }),
    )
    .optional(),
});
export type AuthorizationPolicySpec = z.infer<typeof authorizationPolicySpecSchema>;

/** An object whose spec failed its schema: said once in the description, never thrown. */
export interface SpecProblem {
  object: string;
  problem: string;
}

type Parsed = { ok: true; data: unknown } | { ok: false; problem: string };

// Snapshots are read-only and describe/mtls ask about the same objects many times: parse each
// (object, schema, field) once. WeakMap keys let a dropped snapshot take its cache with it.
const cache = new WeakMap<KubeObject, Map<z.ZodType<unknown>, Map<string, Parsed>>>();

/** Parse `obj[field]` (default `spec`) with a schema; undefined plus a recorded problem when it does not fit. */
export function parseField<T>(
  obj: KubeObject,
  schema: z.ZodType<T>,
  problems?: SpecProblem[],
  field = 'spec',
): T | undefined {
  let bySchema = cache.get(obj);
  if (!bySchema) cache.set(obj, (bySchema = new Map()));
  let byField = bySchema.get(schema as z.ZodType<unknown>);
  if (!byField) bySchema.set(schema as z.ZodType<unknown>, (byField = new Map()));
  let parsed = byField.get(field);
  if (!parsed) {
    const result = schema.safeParse(obj[field] ?? {});
    parsed = result.success
      ? { ok: true, data: result.data }
      : {
          ok: false,
          problem: `${field} does not fit: ${result.error.issues.map((i) => `${i.path.join('.') || field}: ${i.message}`).join('; ')}`,
        };
    byField.set(field, parsed);
  }
  if (parsed.ok) return parsed.data as T;
  problems?.push({
    object: `${obj.kind} ${obj.metadata.namespace ?? ''}/${obj.metadata.name}`,
    problem: parsed.problem,
  });
  return undefined;
}
