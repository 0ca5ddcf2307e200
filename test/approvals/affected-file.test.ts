// A proposal that affects more than the message shows lists the rest in a file with its first post
// (updates re-send a message's files, so only the first post carries it).
import { describe, expect, it } from '@jest/globals';
import { withAffectedFile } from '../../src/approvals/messages.ts';
import type { ApprovalRequest } from '../../src/approvals/request.ts';

const rec = (n: number) =>
  ({
    preview: { affected: Array.from({ length: n }, (_, i) => `pod-${i}`), affectedLabel: 'Pods that will roll' },
  }) as unknown as ApprovalRequest;

describe('the affected list', () => {
  it('goes to a file, whole, when the message shows only 20', () => {
    const out = withAffectedFile({ text: 'x', blocks: [] }, rec(23));
    expect(out.files?.map((f) => f.filename)).toEqual(['affected.txt']);
    expect(out.files?.[0]?.content.trim().split('\n')).toHaveLength(23);
    expect(withAffectedFile({ text: 'x', blocks: [] }, rec(20)).files).toBeUndefined();
  });
});
