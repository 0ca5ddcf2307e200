// The Envoy views (issue 15): what a sidecar or gateway really has, read from its admin API on 15000
// through a port-forward (proxy-config, dump, stats, certs), its access logs (logs) and links to the
// dashboards (dashboard). Each verb is one file here; they share proxy-target.ts to pick the pod.
import { defineFeature } from '../../feature.ts';
import certs from './certs.ts';
import dashboard from './dashboard.ts';
import logs from './logs.ts';
import dump from './dump.ts';
import proxyConfig from './proxy-config.ts';
import stats from './stats.ts';

export default defineFeature({
  name: 'envoy',
  commands: [
    // One line per verb, added by the file that defines it.
    proxyConfig,
    dump,
    stats,
    certs,
    logs,
    dashboard,
  ],
});
