// The remediation kinds behind `/mesh why`'s fix buttons: pod template annotations on a Deployment (proxy
// resources, the probe rewrite, settings merged into proxy.istio.io/config) and an ALLOW AuthorizationPolicy
// for a workload's kubelet probes. Register `whyRemediations` with the approvals engine.
import type { RemediationKind } from '../../approvals/remediation-kinds.ts';
import { createAuthorizationPolicy } from './fix-policy-kind.ts';
import { podTemplateAnnotations } from './fix-template-kind.ts';

export { CREATE_AUTHORIZATION_POLICY, createAuthorizationPolicy, policyParamsSchema } from './fix-policy-kind.ts';
export type { PolicyParams } from './fix-policy-kind.ts';
export {
  FIX_REQUEST_ANNOTATION,
  POD_TEMPLATE_ANNOTATIONS,
  podTemplateAnnotations,
  templateParamsSchema,
} from './fix-template-kind.ts';
export type { TemplateParams } from './fix-template-kind.ts';

export const whyRemediations: RemediationKind[] = [podTemplateAnnotations, createAuthorizationPolicy];
