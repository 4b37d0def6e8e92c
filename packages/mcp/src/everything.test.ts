import { startLocalControlPlane, type LocalControlPlane } from '@signoff/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, pendingRequest, policy, registry, startProxy, textOf, type RunningProxy } from './__fixtures__/proxy-world.js';

// @modelcontextprotocol/server-everything (the registry's protocol test server) behind signoff-mcp,
// the SDK's own Client downstream over stdio: what is not a tool call passes through.
let controlPlane: LocalControlPlane;
let proxy: RunningProxy;
const logs: Array<{ level: string; data: unknown }> = [];
const updated: string[] = [];

beforeAll(async () => {
  controlPlane = await startLocalControlPlane({ policy, sweepIntervalSeconds: 0.1 });
  proxy = await startProxy(controlPlane, registry.everything(), ['--hold-seconds', '15']);
  proxy.client.setNotificationHandler('notifications/message', (notification) => void logs.push(notification.params));
  proxy.client.setNotificationHandler('notifications/resources/updated', (notification) => void updated.push(notification.params.uri));
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  await controlPlane?.close();
});

describe('signoff-mcp in front of @modelcontextprotocol/server-everything', () => {
  it('passes resources, resource templates and prompts through', async () => {
    expect((await proxy.client.listResourceTemplates()).resourceTemplates.map((template) => template.uriTemplate)).toContain('demo://resource/dynamic/text/{resourceId}');
    const read = await proxy.client.readResource({ uri: 'demo://resource/dynamic/text/1' });
    expect(read.contents[0]?.uri).toBe('demo://resource/dynamic/text/1');
    expect((await proxy.client.listPrompts()).prompts.map((prompt) => prompt.name)).toEqual(expect.arrayContaining(['simple-prompt', 'args-prompt']));
    const prompt = await proxy.client.getPrompt({ name: 'args-prompt', arguments: { city: 'Lisbon' } });
    expect(JSON.stringify(prompt.messages)).toContain('Lisbon');
  });

  it('passes completions through', async () => {
    const completion = await proxy.client.complete({ ref: { type: 'ref/prompt', name: 'completable-prompt' }, argument: { name: 'department', value: 'S' } });
    expect(completion.completion.values).toEqual(['Sales', 'Support']);
  });

  it('passes logging levels, log messages, resource subscriptions and update notifications through', async () => {
    expect(proxy.client.getServerCapabilities()).toMatchObject({ logging: {}, resources: { subscribe: true } });
    await proxy.client.setLoggingLevel('info');
    const uri = 'demo://resource/dynamic/text/7';
    await proxy.client.subscribeResource({ uri });
    // The everything server acknowledges a subscription with an info-level log message.
    const acknowledged = await eventually(() => logs.find((log) => String(log.data).includes(`Received Subscribe Resource request for URI: ${uri}`)));
    expect(acknowledged.level).toBe('info');
    // It sends updates for subscribed URIs once this (allowed) tool turns them on.
    expect((await proxy.client.callTool({ name: 'toggle-subscriber-updates', arguments: {} })).isError).toBeFalsy();
    expect(await eventually(() => updated.find((candidate) => candidate === uri))).toBe(uri);
    await proxy.client.callTool({ name: 'toggle-subscriber-updates', arguments: {} });
    await proxy.client.unsubscribeResource({ uri });
  });

  it('forwards allowed calls and refuses denied ones', async () => {
    expect(textOf(await proxy.client.callTool({ name: 'echo', arguments: { message: 'hi' } }))).toBe('Echo: hi');
    expect(textOf(await proxy.client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } }))).toContain('5');
    const env = await proxy.client.callTool({ name: 'get-env', arguments: {} });
    expect(env.isError).toBe(true);
    expect(textOf(env)).toContain('The environment holds secrets');
  });

  it('holds an escalated call, then relays the upstream’s own progress after the hold’s, in order', async () => {
    const progress: Array<{ progress: number; total?: number; message?: string }> = [];
    const call = proxy.client.callTool(
      { name: 'trigger-long-running-operation', arguments: { duration: 0.6, steps: 3 } },
      { onprogress: (update) => progress.push(update), resetTimeoutOnProgress: true },
    );
    const request = await pendingRequest(controlPlane, (args) => args.steps === 3);
    expect(request.reason).toBe('Long operations need a reviewer');
    await controlPlane.decide(request.id, 'ana', 'approve');
    expect(textOf(await call)).toContain('Long running operation completed');
    expect(progress[0]?.message).toContain(request.id);
    // Progress on one token must increase: the upstream's steps are shifted past the hold's updates.
    const values = progress.map((update) => update.progress);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(new Set(values).size).toBe(values.length);
    expect(progress.length).toBeGreaterThan(1);
  });
});

describe('signoff-mcp in front of server-everything, with a client of the 2026-07-28 revision', () => {
  it('guards tools and passes completions through the same way', async () => {
    const modern = await startProxy(controlPlane, registry.everything(), ['--hold-seconds', '0.3'], '2026-07-28');
    try {
      expect(modern.client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
      expect(textOf(await modern.client.callTool({ name: 'echo', arguments: { message: 'modern' } }))).toBe('Echo: modern');
      expect(textOf(await modern.client.callTool({ name: 'get-env', arguments: {} }))).toContain('The environment holds secrets');
      const completion = await modern.client.complete({ ref: { type: 'ref/prompt', name: 'completable-prompt' }, argument: { name: 'department', value: 'E' } });
      expect(completion.completion.values).toEqual(['Engineering']);
    } finally {
      await modern.close();
    }
  });
});
