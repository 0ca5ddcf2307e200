import { describe, expect, it } from '@jest/globals';
import { MAX_MESSAGES_INLINE, type ReportedMessage, renderAnalyzeReport } from '../../src/mesh/analyze-report.ts';
import { LIMITS, blockChars } from '../../src/blocks/block-kit.ts';

function msg(i: number, level: ReportedMessage['level']): ReportedMessage {
  return {
    code: level === 'Error' ? 'IST0101' : level === 'Warning' ? 'IST0108' : 'IST0118',
    level,
    resource: `Service shop/svc-${String(i).padStart(2, '0')}`,
    namespace: 'shop',
    text: `message ${i}`,
    source: 'meshops',
  };
}

describe('rendering an analysis', () => {
  it('shows errors, then warnings, then info, each linked to its Istio page; past 15 the rest go to a file', () => {
    const messages = [
      ...Array.from({ length: 5 }, (_, i) => msg(i, 'Error')),
      ...Array.from({ length: 10 }, (_, i) => msg(10 + i, 'Warning')),
      ...Array.from({ length: 7 }, (_, i) => msg(30 + i, 'Info')),
    ];
    const r = renderAnalyzeReport({ scope: 'namespace shop', objectsAnalyzed: 120, messages });
    const text = JSON.stringify(r.blocks);
    expect(r.text).toBe('Istio analysis of namespace shop: 5 errors, 10 warnings, 7 info (120 objects analyzed)');
    // 15 inline: all 5 errors and 10 warnings; no info line made it into the message.
    expect((text.match(/message \d+/g) ?? []).length).toBe(MAX_MESSAGES_INLINE);
    expect(text).not.toContain('message 30');
    expect(text.indexOf('message 4')).toBeLessThan(text.indexOf('message 10'));
    expect(text).toContain('<https://istio.io/latest/docs/reference/config/analysis/ist0101/|IST0101>');
    expect(text).toContain('7 more');
    expect(r.files).toHaveLength(1);
    expect(r.files[0]?.content.trim().split('\n')).toHaveLength(22);
    expect(r.files[0]?.content).toContain('Info [IST0118] (Service shop/svc-36) message 36');
    expect(blockChars(r.blocks)).toBeLessThanOrEqual(LIMITS.totalBlockChars);
  });

  it('says so in one line with the object count when there is nothing to report', () => {
    const r = renderAnalyzeReport({
      scope: 'namespace bookinfo',
      objectsAnalyzed: 30,
      messages: [],
      istioctl: { status: 'absent', reason: 'no istioctl on PATH' },
    });
    expect(r.text).toBe('No issues found in namespace bookinfo: 30 objects analyzed.');
    expect(r.files).toEqual([]);
    expect(JSON.stringify(r.blocks)).toContain('istioctl: not used (no istioctl on PATH)');
  });
});

describe('rendering what was not checked', () => {
  const notChecked = {
    skipped: ['gateway.SecretAnalyzer needs Secrets, which meshops does not read'],
    partial: [
      'injection.Analyzer ran without ConfigMaps, which meshops is not allowed to list (RBAC): <something> is left out',
    ],
  };

  it('lists the analyzers not run and why under the findings, and under "no issues found" too', () => {
    for (const messages of [[], [msg(1, 'Error')]]) {
      const r = renderAnalyzeReport({ scope: 'namespace shop', objectsAnalyzed: 3, messages, notChecked });
      const text = JSON.stringify(r.blocks);
      expect(text).toContain(
        '*Not checked* (1 analyzer not run):\\n• gateway.SecretAnalyzer needs Secrets, which meshops does not read',
      );
      expect(text).toContain('*Partly checked:*\\n• injection.Analyzer ran without ConfigMaps');
      expect(text).toContain('&lt;something&gt;');
    }
  });

  it('puts them in the attached file when the messages overflow into one', () => {
    const messages = Array.from({ length: MAX_MESSAGES_INLINE + 1 }, (_, i) => msg(i, 'Warning'));
    const r = renderAnalyzeReport({ scope: 'namespace shop', objectsAnalyzed: 40, messages, notChecked });
    expect(r.files[0]?.content).toContain(
      'not checked: gateway.SecretAnalyzer needs Secrets, which meshops does not read\n',
    );
    expect(r.files[0]?.content).toContain('partly checked: injection.Analyzer ran without ConfigMaps');
  });
});
