// What commands may use beyond the cluster client. The composition root (meshops.ts) fills it in;
// tests fill in what they need. Optional members are features that may be switched off. Commands see
// narrow views: the settings they read, and the approvals port (never the service class or the tokens).
import type { ApprovalsPort } from './approvals/port.ts';

export type { ApprovalsPort, OfferSink } from './approvals/port.ts';

/** The settings commands read: no Slack tokens, no signing secret, no kubeconfig. */
export interface CommandSettings {
  /** Path of an istioctl binary, when `analyze --istioctl` may use one. */
  istioctl?: string;
  /** Prometheus, when configured: rates over a window instead of sidecar scrapes. */
  prometheusUrl?: string;
  /** Base URLs of Kiali (with its web root), Grafana and Jaeger's UI, for `/mesh dashboard`'s links. */
  kialiUrl?: string;
  grafanaUrl?: string;
  jaegerUrl?: string;
}

export interface CommandServices {
  settings?: CommandSettings;
  /** Set when no policy file is configured: help and start-up warn about it. */
  policyWarning?: string;
  /** Approvals (src/approvals/): propose, recent, title, and offers into buttons. */
  approvals?: ApprovalsPort;
}
