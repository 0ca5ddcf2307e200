// `/mesh dump <pod>.<ns>`: one Envoy's whole configuration, /config_dump?include_eds=true (what
// `istioctl proxy-config all -o json` reads), as a JSON file in the thread. Envoy redacts private keys
// and passwords itself ("[redacted]"); meshops redacts them again whatever the proxy sent
// (src/envoy/redact.ts) and says so when it had to. The message: the Envoy and Istio versions, what each
// config type holds, the dump's size.
import { z } from 'zod';
import { defineCommand, namespaceArg } from '../../command.ts';
import { type Block, context, count, esc, header, type Rendered, section } from '../../blocks/block-kit.ts';
import { UserError } from '../../errors.ts';
import { adminGet, EnvoyAdminError } from '../../envoy/admin.ts';
import { FULL_DUMP_PATH } from '../../envoy/admin-paths.ts';
import { parseEnvoyConfigDump, proxyVersions } from '../../envoy/proxy-config/index.ts';
import { arr, isObject } from '../../envoy/proxy-config/proto.ts';
import { type RedactionReport, redactConfigDump } from '../../envoy/redact.ts';
import { parseWorkloadRef } from '../../mesh/workload-ref.ts';
import { type AdminFailure, adminFailure, type ProxyTarget, resolveProxy, targetLine } from './proxy-target.ts';

const USAGE = '/mesh dump <pod>.<namespace> | <deployment> -n <namespace> | app=<label> -n <namespace>';

export interface DumpSection {
  /** Clusters, Listeners, … (the section's type without `ConfigDump`). */
  type: string;
  /** Each list in it and its length: `dynamic_active_clusters` → 12. */
  lists: Array<{ name: string; size: number }>;
  /** For the bootstrap: the node id Envoy runs as. */
  node?: string;
}

export interface DumpResult {
  target: Omit<ProxyTarget, 'object'>;
  path: string;
  failure?: AdminFailure;
  versions?: { istio: string; envoy: string };
  sections: DumpSection[];
  /** Bytes Envoy sent, and the file's content (redacted, indented). */
  receivedBytes: number;
  content?: string;
  redaction?: RedactionReport;
}

/** What each config type holds, from the parsed dump. */
export function dumpSections(json: unknown): DumpSection[] {
  const configs = isObject(json) ? arr(json, 'configs') : [];
  return configs.filter(isObject).map((c) => {
    const type =
      String(c['@type'] ?? '')
        .replace(/^.*\./, '')
        .replace(/ConfigDump$/, '') || 'unknown';
    const lists = Object.entries(c)
      .filter(([, v]) => Array.isArray(v))
      .map(([name, v]) => ({ name, size: (v as unknown[]).length }));
    const node = (c.bootstrap as { node?: { id?: unknown } } | undefined)?.node?.id;
    return { type, lists, ...(typeof node === 'string' ? { node } : {}) };
  });
}

const argsSchema = z
  .object({ words: z.array(z.string().max(253)).max(4).default([]), namespace: namespaceArg.optional() })
  .transform((a) => {
    if (a.words.length === 0)
      throw new UserError(
        'Which proxy? Give a pod, a Deployment or a label.',
        'e.g. `/mesh dump productpage-v1-7d8f9c-x2x4k.bookinfo` or `/mesh dump app=reviews -n bookinfo`',
      );
    // The pod's namespace lifted out (`<pod>.<ns>` too), so the router checks it exists before the run.
    const ref = parseWorkloadRef(a.words.join(' '), a.namespace);
    return { ref, namespace: ref.namespace };
  });

export default defineCommand({
  name: 'dump',
  aliases: ['config-dump'],
  summary: "One Envoy's whole config dump (with EDS) as a JSON file in the thread, private keys redacted",
  usage: USAGE,
  examples: ['/mesh dump productpage-v1-7d8f9c-x2x4k.bookinfo', '/mesh dump reviews-v1 -n bookinfo'],
  args: argsSchema,
  argSpec: { positional: ['words...'], options: { n: 'namespace', namespace: 'namespace' } },
  permission: 'read',
  touchesCluster: true,
  async run({ args, kube }): Promise<DumpResult> {
    const target = await resolveProxy(kube, args.ref);
    const { object: _pod, ...t } = target;
    const r: DumpResult = { target: t, path: FULL_DUMP_PATH, sections: [], receivedBytes: 0 };
    try {
      const body = await adminGet(kube, target, FULL_DUMP_PATH, { timeoutMs: 30_000, maxBodyBytes: 64 * 1024 * 1024 });
      r.receivedBytes = Buffer.byteLength(body);
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch (err) {
        throw new EnvoyAdminError('bad-answer', target, FULL_DUMP_PATH, (err as Error).message.slice(0, 200));
      }
      if (!isObject(parsed) || !Array.isArray(parsed.configs))
        throw new EnvoyAdminError('bad-answer', target, FULL_DUMP_PATH, 'no `configs` list');
      const { json, report } = redactConfigDump(parsed);
      r.redaction = report;
      r.content = `${JSON.stringify(json, null, 2)}\n`;
      r.sections = dumpSections(json);
      try {
        const v = proxyVersions(parseEnvoyConfigDump(json));
        r.versions = { istio: v.istioVersion, envoy: v.envoyVersion };
      } catch {
        // No bootstrap section: the versions are said to be unknown.
      }
    } catch (err) {
      const f = adminFailure(err, target, 'its config dump');
      if (!f) throw err;
      r.failure = f;
    }
    return r;
  },
  render: (r) => renderDump(r),
});

const kib = (n: number) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : `${Math.ceil(n / 1024)} KiB`);
const words = (s: string) => s.replace(/_/g, ' ');

export function renderDump(r: DumpResult): Rendered {
  const who = `${r.target.namespace}/${r.target.pod}`;
  const blocks: Block[] = [header(`Config dump · ${who}`)];
  const others = r.target.others.length ? ` · ${count(r.target.others.length, 'other pod')} of it not read` : '';
  blocks.push(
    context(
      `From ${targetLine(r.target as ProxyTarget)}${others} · \`GET ${esc(r.path)}\` on :15000 through a port-forward`,
    ),
  );
  if (r.failure || r.content === undefined) {
    const f = r.failure ?? { reason: 'Envoy sent nothing.', hint: 'Ask again.' };
    blocks.push(section(`:x: ${esc(f.reason)}\n${f.hint}`));
    return { text: `Config dump of ${who}: could not be read — ${f.reason}`, blocks };
  }
  const filename = `${r.target.pod}.${r.target.namespace}-config_dump.json`;
  const v = r.versions;
  blocks.push(
    section(
      `Envoy ${esc(v?.envoy || 'version unknown (no bootstrap section)')} · Istio ${esc(v?.istio || 'version unknown')} · ${kib(r.receivedBytes)} from Envoy · in the thread as \`${filename}\``,
    ),
  );
  const lines = r.sections.map((s) => {
    const parts = s.lists.filter((l) => l.size > 0).map((l) => `${l.size} ${words(l.name)}`);
    if (s.node) parts.unshift(`node \`${esc(s.node)}\``);
    return `• *${esc(s.type)}*: ${parts.length ? parts.join(', ') : '_empty_'}`;
  });
  blocks.push(section(lines.length ? lines.join('\n') : '_The dump has no config sections._'));
  const red = r.redaction;
  if (red?.redactedHere)
    blocks.push(
      section(
        `:warning: ${count(red.redactedHere, 'sensitive value')} (private keys, passwords) came from Envoy *in clear* and ${red.redactedHere === 1 ? 'was' : 'were'} redacted by meshops before upload: ${red.paths
          .slice(0, 3)
          .map((p) => `\`${esc(p)}\``)
          .join(
            ', ',
          )}${red.paths.length > 3 ? ` and ${red.paths.length - 3} more` : ''}. An Envoy that does not redact its config dump leaks keys to anyone who can port-forward to it.`,
      ),
    );
  else
    blocks.push(
      context(
        `:lock: ${red?.alreadyRedacted ? `${count(red.alreadyRedacted, 'private key or password', 'private keys or passwords')} redacted by Envoy as "[redacted]"` : 'No private keys or passwords in it'}; checked again before upload.`,
      ),
    );
  const total = r.sections.reduce((n, s) => n + s.lists.reduce((m, l) => m + l.size, 0), 0);
  return {
    text: `Config dump of ${who}: ${count(r.sections.length, 'config type')}, ${total} entries, ${kib(r.receivedBytes)}; the JSON is in the thread as ${filename}`,
    blocks,
    files: [{ filename, title: `Envoy config dump of ${who}`, content: r.content }],
  };
}
