// `/mesh analyze --paste`: the chat form of `istioctl analyze ./my-virtualservice.yaml`. A modal takes
// pasted YAML; bad YAML is refused in the modal itself, with the line; good YAML is analyzed as if
// applied on top of the live cluster and the answer is posted where the command was typed.
import { z } from 'zod';
import { PASTE_CALLBACK_ID, analyzeLive } from './analyze.ts';
import type { ClusterTarget } from '../../command.ts';
import { referenceId } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { Messenger } from '../../messenger.ts';
import type { parseYamlObjects } from '../../mesh/analyzers/load.ts';
import { renderAnalyzeReport } from '../../mesh/analyze-report.ts';
import { context, section } from '../../blocks/block-kit.ts';
import type { FeatureContext } from '../../feature.ts';
import type { FormHandler, FormSpec } from '../../messenger.ts';

export const PASTE_BLOCK_ID = 'yaml';
export const PASTE_ACTION_ID = 'yaml';
/** Slack's limit for a plain-text input. */
export const PASTE_MAX_CHARS = 3000;

const metadataSchema = z.object({
  channel: z.string().min(1).max(40),
  cluster: z.string().min(1).max(64),
  namespace: z.string().max(63).optional(),
});
export type PasteMetadata = z.infer<typeof metadataSchema>;

/** The modal (views.open payload's `view`). */
export function pasteModalView(meta: PasteMetadata): Record<string, unknown> {
  return {
    type: 'modal',
    callback_id: PASTE_CALLBACK_ID,
    private_metadata: JSON.stringify(meta),
    title: { type: 'plain_text', text: 'Analyze Istio YAML' },
    submit: { type: 'plain_text', text: 'Analyze' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `Paste Istio or Kubernetes YAML. meshops analyzes it *as if applied* on top of cluster *${meta.cluster}*${meta.namespace ? ` (messages about namespace \`${meta.namespace}\`)` : ''}. Nothing is applied.`,
        },
      },
      {
        type: 'input',
        block_id: PASTE_BLOCK_ID,
        label: { type: 'plain_text', text: 'YAML' },
        element: {
          type: 'plain_text_input',
          action_id: PASTE_ACTION_ID,
          multiline: true,
          max_length: PASTE_MAX_CHARS,
          placeholder: { type: 'plain_text', text: 'apiVersion: networking.istio.io/v1\nkind: VirtualService\n...' },
        },
      },
    ],
  };
}

export interface PasteHandlerOptions {
  clusters: readonly ClusterTarget[];
  messenger: () => Messenger | undefined;
  log: Logger;
  istioctlBinary?: string;
}

/** Validates at once (errors keep the modal open); the analysis itself runs after the ack. */
export function pasteViewHandler(options: PasteHandlerOptions): FormHandler {
  return async (submission) => {
    const meta = metadataSchema.safeParse(safeJson(submission.privateMetadata));
    if (!meta.success)
      return { errors: { [PASTE_BLOCK_ID]: 'This form is no longer valid. Type `/mesh analyze --paste` again.' } };
    const text = submission.values[PASTE_BLOCK_ID]?.[PASTE_ACTION_ID] ?? '';
    if (!text.trim()) return { errors: { [PASTE_BLOCK_ID]: 'Paste at least one YAML document.' } };
    let objects: ReturnType<typeof parseYamlObjects>;
    // Loaded on first use: load.ts brings Istio's analyzers (and their generated CRD schemas) with it, memory an
    // idle bot does not need.
    const { YamlLoadError, parseYamlObjects } = await import('../../mesh/analyzers/load.ts');
    try {
      objects = parseYamlObjects(text, 'pasted.yaml');
    } catch (err) {
      if (err instanceof YamlLoadError) return { errors: { [PASTE_BLOCK_ID]: err.message.slice(0, 1900) } };
      throw err;
    }
    if (objects.length === 0)
      return {
        errors: {
          [PASTE_BLOCK_ID]: 'No Kubernetes objects found: each document needs apiVersion, kind and metadata.name.',
        },
      };
    const cluster = options.clusters.find((c) => c.name === meta.data.cluster);
    if (!cluster)
      return { errors: { [PASTE_BLOCK_ID]: `Cluster ${meta.data.cluster} is no longer served by this bot.` } };
    void (async () => {
      const messenger = options.messenger();
      if (!messenger) return;
      try {
        const report = await analyzeLive(cluster.kube, { namespace: meta.data.namespace, overlay: objects });
        const rendered = renderAnalyzeReport(report);
        const ref = await messenger.post(meta.data.channel, {
          ...rendered,
          text: `<@${submission.userId}> pasted YAML: ${rendered.text}`,
          blocks: [
            context(
              `<@${submission.userId}> pasted ${objects.length} object${objects.length === 1 ? '' : 's'} · analyzed as if applied · cluster *${cluster.name}*`,
            ),
            ...rendered.blocks,
          ],
        });
        for (const f of rendered.files) await messenger.upload(meta.data.channel, ref.threadTs ?? ref.ts, f);
      } catch (err) {
        const id = referenceId();
        options.log.error({ err, ref: id }, 'pasted YAML analysis failed');
        await messenger
          .ephemeral(meta.data.channel, submission.userId, {
            text: 'The analysis failed',
            blocks: [section(`:x: Sorry, the analysis of your pasted YAML failed (ref \`${id}\`).`)],
          })
          .catch(() => undefined);
      }
    })();
    return undefined;
  };
}

function safeJson(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? '');
  } catch {
    return undefined;
  }
}

/** The paste form as the analyze feature declares it: opened by `/mesh analyze --paste`. */
export function pasteForm(ctx: FeatureContext): FormSpec {
  return {
    callbackId: PASTE_CALLBACK_ID,
    view: (req) => pasteModalView({ channel: req.channel, cluster: req.cluster, namespace: req.params.namespace }),
    submit: pasteViewHandler({
      clusters: ctx.clusters,
      messenger: ctx.messenger,
      log: ctx.log,
      istioctlBinary: ctx.settings.istioctl,
    }),
  };
}
