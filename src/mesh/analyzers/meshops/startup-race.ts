// meshops.StartupRaceAnalyzer (MSH0002): an application container that failed within a minute of starting,
// having started while its sidecar was still coming up, in a pod where nothing holds the application until
// the proxy is ready (holdApplicationUntilProxyStarts) and the proxy is not a native sidecar (which the
// kubelet starts first). Its first requests went out before the proxy could carry them.
import { parse as parseYaml } from 'yaml';
import type { KubeObject } from '../../../kube/objects.ts';
import { annotations, isRec, num, rec, str } from '../util/fields.ts';
import { gvk } from '../util/kinds.ts';
import { PROXY_CONTAINER } from '../util/workloads.ts';
import type { AnalysisMessage, Analyzer } from '../types.ts';
import { message } from '../types.ts';
import { containerStatuses, podContainers, proxyContainer } from './pod-status.ts';

/** An app run that began this long after the proxy container started is not racing it. */
const PROXY_STARTUP_MS = 10_000;
/** An app run that lasted longer than this did not fail at start-up. */
const STARTUP_FAILURE_MS = 60_000;

export const startupRaceAnalyzer: Analyzer = {
  name: 'meshops.StartupRaceAnalyzer',
  description: 'Finds application containers that failed at start-up before their sidecar was ready',
  inputs: [gvk.Pod, gvk.MeshConfig],
  analyze(snapshot) {
    const out: AnalysisMessage[] = [];
    const meshHolds = holdsApplication(rec(snapshot.meshConfig.defaultConfig));
    for (const pod of snapshot.listOf(gvk.Pod)) {
      const proxy = proxyContainer(pod);
      if (!proxy || proxy.nativeSidecar || meshHolds || podHolds(pod)) continue;
      const statuses = containerStatuses(pod);
      const proxyStarted = Date.parse(str(rec(rec(statuses.get(PROXY_CONTAINER)?.['state'])['running'])['startedAt']));
      if (Number.isNaN(proxyStarted)) continue;
      for (const c of podContainers(pod)) {
        const name = str(c.container['name']);
        if (name === PROXY_CONTAINER || c.path[1] === 'initContainers') continue;
        const last = rec(rec(statuses.get(name)?.['lastState'])['terminated']);
        const exitCode = num(last['exitCode']) ?? 0;
        const started = Date.parse(str(last['startedAt']));
        const finished = Date.parse(str(last['finishedAt']));
        if (exitCode === 0 || Number.isNaN(started) || Number.isNaN(finished)) continue;
        // Killed for its own memory: the container's limit, not a call to an Envoy that was not up yet.
        if (str(last['reason']) === 'OOMKilled') continue;
        if (started > proxyStarted + PROXY_STARTUP_MS || finished - started > STARTUP_FAILURE_MS) continue;
        out.push(
          message(
            'SidecarStartupRace',
            pod,
            [name, exitCode, `${Math.max(0, Math.round((finished - started) / 1000))}s`],
            c.path,
          ),
        );
      }
    }
    return out;
  },
};

function holdsApplication(proxyConfig: Record<string, unknown>): boolean {
  return proxyConfig['holdApplicationUntilProxyStarts'] === true;
}

/** The pod's own proxy config (annotation proxy.istio.io/config, YAML) asks to hold the application. */
function podHolds(pod: KubeObject): boolean {
  const raw = annotations(pod)['proxy.istio.io/config'];
  if (!raw) return false;
  try {
    const parsed: unknown = parseYaml(raw);
    return isRec(parsed) && holdsApplication(parsed);
  } catch {
    return false;
  }
}
