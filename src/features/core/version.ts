import { z } from 'zod';
import { defineCommand } from '../../command.ts';
import { context, esc, fields, header, section, tableBlock, type Block } from '../../blocks/block-kit.ts';
import type { KubeObject } from '../../kube/objects.ts';
import {
  hasSidecar,
  imageTag,
  isPodReady,
  lastTermination,
  minorVersion,
  podSpec,
  restartCount,
  sidecarContainer,
} from '../../mesh/pods.ts';

export interface IstiodReplica {
  pod: string;
  revision: string;
  image: string;
  version?: string;
  ready: boolean;
  restarts: number;
  lastTermination?: string;
}

export interface VersionReport {
  istioNamespace: string;
  istiod: IstiodReplica[];
  controlPlaneVersions: string[];
  dataPlane: Array<{ version: string; count: number; namespaces: string[] }>;
  podsWithSidecar: number;
  skew: Array<{ version: string; count: number; problem: string }>;
}

const ISTIO_NAMESPACE = 'istio-system';

/** Istio supports a data plane up to one minor version behind the control plane, never ahead of it. */
export function skewProblem(proxy: string, controlPlane: string): string | undefined {
  const p = minorVersion(proxy);
  const c = minorVersion(controlPlane);
  if (!p || !c) return undefined;
  const diff = (c.major - p.major) * 1000 + (c.minor - p.minor);
  if (diff < 0)
    return `newer than the control plane (${controlPlane}); Istio does not support a data plane ahead of its control plane`;
  if (diff > 1) return `${diff} minor versions behind the control plane (${controlPlane}); Istio supports one`;
  return undefined;
}

export function versionReport(istiodPods: KubeObject[], allPods: KubeObject[]): VersionReport {
  const istiod = istiodPods
    .map((pod): IstiodReplica => {
      const container = podSpec(pod).containers.find((c) => c.name === 'discovery') ?? podSpec(pod).containers[0];
      const term = lastTermination(pod);
      return {
        pod: pod.metadata.name,
        revision: pod.metadata.labels?.['istio.io/rev'] ?? 'default',
        image: container?.image ?? 'unknown',
        version: imageTag(container?.image),
        ready: isPodReady(pod),
        restarts: restartCount(pod),
        lastTermination: term ? `${term.reason}${term.at ? ` at ${term.at}` : ''}` : undefined,
      };
    })
    .sort((a, b) => a.revision.localeCompare(b.revision) || a.pod.localeCompare(b.pod));
  const controlPlaneVersions = [...new Set(istiod.map((r) => r.version).filter((v): v is string => !!v))].sort();
  const byVersion = new Map<string, { count: number; namespaces: Set<string> }>();
  let podsWithSidecar = 0;
  for (const pod of allPods) {
    if (!hasSidecar(pod)) continue;
    podsWithSidecar++;
    const version = imageTag(sidecarContainer(pod)?.image) ?? 'unknown';
    const entry = byVersion.get(version) ?? { count: 0, namespaces: new Set<string>() };
    entry.count++;
    entry.namespaces.add(pod.metadata.namespace ?? '');
    byVersion.set(version, entry);
  }
  const dataPlane = [...byVersion.entries()]
    .map(([version, e]) => ({ version, count: e.count, namespaces: [...e.namespaces].sort() }))
    .sort((a, b) => b.count - a.count || a.version.localeCompare(b.version));
  const newestCp = controlPlaneVersions.at(-1);
  const skew = newestCp
    ? dataPlane.flatMap((d) => {
        const problem = skewProblem(d.version, newestCp);
        return problem ? [{ version: d.version, count: d.count, problem }] : [];
      })
    : [];
  return { istioNamespace: ISTIO_NAMESPACE, istiod, controlPlaneVersions, dataPlane, podsWithSidecar, skew };
}

export default defineCommand({
  name: 'version',
  summary: 'Control-plane and data-plane versions, and the skew between them',
  usage: '/mesh version',
  args: z.object({}),
  permission: 'read',
  touchesCluster: true,
  // Only reads, and the answer depends on the cluster and the arguments alone: concurrent identical asks share a run.
  readOnly: true,
  async run({ kube }) {
    const [istiodPods, allPods] = await Promise.all([
      kube.list('Pod', { namespace: ISTIO_NAMESPACE, labelSelector: 'app=istiod' }),
      kube.list('Pod'),
    ]);
    return versionReport(istiodPods, allPods);
  },
  render(r) {
    if (r.istiod.length === 0) {
      const n = r.podsWithSidecar;
      const text = `No istiod found in ${r.istioNamespace} (pods labelled app=istiod). ${n} pod${n === 1 ? ' carries' : 's carry'} an istio-proxy sidecar.`;
      return { text, blocks: [section(`:warning: ${text}`)] };
    }
    const cp = r.controlPlaneVersions.join(', ') || 'unknown';
    const dp = r.dataPlane.map((d) => `${d.version} (${d.count})`).join(', ') || 'no sidecars';
    const text =
      `Istio control plane ${cp}; data plane ${dp}` + (r.skew.length ? `; ${r.skew.length} unsupported skew` : '');
    const files = [];
    const blocks: Block[] = [header('Istio versions')];
    blocks.push(
      fields([
        ['Control plane', esc(cp)],
        ['istiod replicas', `${r.istiod.filter((i) => i.ready).length}/${r.istiod.length} ready`],
        ['Revisions', esc([...new Set(r.istiod.map((i) => i.revision))].join(', '))],
        ['Proxies', `${r.podsWithSidecar} pods with a sidecar`],
      ]),
    );
    const cpTable = tableBlock(
      ['ISTIOD POD', 'REVISION', 'VERSION', 'READY', 'RESTARTS', 'LAST TERMINATION'],
      r.istiod.map((i) => [
        i.pod,
        i.revision,
        i.version ?? i.image,
        i.ready ? 'yes' : 'NO',
        String(i.restarts),
        i.lastTermination ?? '-',
      ]),
      'istiod-replicas.txt',
    );
    blocks.push(section('*Control plane*'), cpTable.block);
    if (cpTable.overflow) files.push(cpTable.overflow);
    const dpTable = tableBlock(
      ['PROXY VERSION', 'PODS', 'NAMESPACES'],
      r.dataPlane.map((d) => [d.version, String(d.count), d.namespaces.join(', ')]),
      'proxy-versions.txt',
    );
    blocks.push(section('*Data plane*'), dpTable.block);
    if (dpTable.overflow) files.push(dpTable.overflow);
    if (r.skew.length) {
      blocks.push(
        section(
          r.skew
            .map(
              (s) =>
                `:warning: *${esc(s.version)}* on ${s.count} pod${s.count === 1 ? '' : 's'}: ${esc(s.problem)}. Restart those workloads after upgrading, to pick up the current sidecar.`,
            )
            .join('\n'),
        ),
      );
    } else {
      blocks.push(context(":white_check_mark: Every proxy is within Istio's supported skew of the control plane."));
    }
    return { text, blocks, files };
  },
});
