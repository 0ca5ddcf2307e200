import { expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { conformanceDir, describeWithShared, projectRoot } from '../support/shared.ts';

describeWithShared('manifest.yml', () => {
  const schema = JSON.parse(readFileSync(join(conformanceDir, 'slack', 'manifest.schema.1.0.0.json'), 'utf8'));
  const manifest = parse(readFileSync(join(projectRoot, 'manifest.yml'), 'utf8'));
  // Slack's schema spells one pattern as "regex" (background_color) : teach ajv that keyword. (Not strict: the schema is loose about types in places ajv strict mode flags.)
  const ajv = new Ajv({ allErrors: true, strict: false });
  ajv.addFormat('uri', /^[a-z][a-z0-9+.-]*:\S+$/i);
  ajv.addKeyword({
    keyword: 'regex',
    type: 'string',
    schemaType: 'string',
    validate: (re: string, data: string) => new RegExp(re).test(data),
  });
  const validate = ajv.compile(schema);

  it("validates against Slack's app-manifest schema", () => {
    const ok = validate(manifest);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('the schema check can fail: a broken manifest is rejected', () => {
    const broken = structuredClone(manifest);
    broken.features.slash_commands[0].command = 'mesh';
    broken.display_information.name = '';
    broken.display_information.background_color = 'blue!';
    expect(validate(broken)).toBe(false);
  });

  it('declares /mesh, mentions, DMs, interactivity, Socket Mode, App Home and only the scopes meshops uses', () => {
    expect(manifest.features.slash_commands.map((c: { command: string }) => c.command)).toEqual(['/mesh']);
    expect(manifest.features.slash_commands[0].usage_hint).toBeTruthy();
    expect(manifest.settings.event_subscriptions.bot_events).toEqual(
      expect.arrayContaining(['app_mention', 'message.im', 'app_home_opened']),
    );
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(manifest.settings.socket_mode_enabled).toBe(true);
    expect(manifest.features.app_home.home_tab_enabled).toBe(true);
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual([
      'app_mentions:read',
      'chat:write',
      'commands',
      'files:write',
      'im:history',
      'usergroups:read',
      'users:read',
    ]);
  });
});
