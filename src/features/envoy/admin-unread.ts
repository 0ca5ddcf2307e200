// Why an Envoy admin read failed, in words for people, with what to do: the port-forward refused by
// RBAC (no `create` on pods/portforward), the pod gone, nothing listening on 15000, Envoy not answering
// in time or answering something else. Errors that are not about the admin API (the cluster unreachable,
// a bug) are not words here: the caller rethrows them for the router's explain().
import { EnvoyAdminError, type EnvoyProxyRef } from '../../envoy/admin.ts';
import { PortForwardError } from '../../kube/port-forward.ts';

export interface AdminUnread {
  /** What could not be read and why ("not allowed to port-forward to bookinfo/reviews-v1-abc (403 …)"). */
  reason: string;
  /** What to do about it. */
  hint: string;
}

/** The words for an admin-API failure; undefined for an error that is not one (rethrow it). */
export function adminUnread(err: unknown, proxy: EnvoyProxyRef, what: string): AdminUnread | undefined {
  const pod = `${proxy.namespace}/${proxy.pod}`;
  if (err instanceof PortForwardError) {
    if (err.kind === 'tunnel' && err.status === 403)
      return {
        reason: `meshops may not port-forward to \`${pod}\` (403: RBAC denies \`create\` on \`pods/portforward\`), so ${what} could not be read`,
        hint: "Add the `envoy-admin` component (deploy/components/envoy-admin) to meshops' install, or ask with `istioctl proxy-config` from a terminal.",
      };
    if (err.kind === 'tunnel' && err.status === 404)
      return {
        reason: `pod \`${pod}\` is gone (404 on its port-forward), so ${what} could not be read`,
        hint: 'Ask again: a new pod of the workload will be picked.',
      };
    if (err.kind === 'refused')
      return {
        reason: `nothing listens on Envoy's admin port in \`${pod}\` (connection refused), so ${what} could not be read: Envoy is not running or is starting`,
        hint: `Check the istio-proxy container: \`kubectl -n ${proxy.namespace} logs ${proxy.pod} -c istio-proxy\`.`,
      };
    if (err.kind === 'timeout')
      return {
        reason: `Envoy in \`${pod}\` did not answer in time, so ${what} could not be read`,
        hint: 'Ask again; if it keeps timing out, the proxy is overloaded or stuck (check its CPU and logs).',
      };
    return {
      reason: `the port-forward to \`${pod}\` failed (${err.kind}: ${err.message.slice(0, 200)}), so ${what} could not be read`,
      hint: 'Ask again; if it keeps failing, check the API server and the node running the pod.',
    };
  }
  if (err instanceof EnvoyAdminError) {
    return err.kind === 'http'
      ? {
          reason: `Envoy in \`${pod}\` answered ${err.status} to \`${err.path}\`, so ${what} could not be read`,
          hint: 'An Envoy that old or that restricted does not serve this admin path; read it with `istioctl proxy-config` instead.',
        }
      : {
          reason: `Envoy in \`${pod}\` answered \`${err.path}\` with something that is not its JSON, so ${what} could not be read`,
          hint: 'Ask again; if it repeats, something other than Envoy listens on port 15000.',
        };
  }
  return undefined;
}
