import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLocalControlPlane, type LocalControlPlane } from '@signoff/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileText, pendingWrite, policy, registry, sharedFolder, startProxy, textOf, unique, type RunningProxy } from './__fixtures__/proxy-world.js';

// The reference filesystem server from the registry, spawned by the real signoff-mcp bin; the SDK's
// own Client downstream over stdio; a real control plane. Whether write_file ran is read from disk.
let controlPlane: LocalControlPlane;
let root: string;
/** Holds an escalated call up to 15 s. */
let holding: RunningProxy;
/** Answers "awaiting approval" after 0.3 s, and hides the always-denied tools. */
let quick: RunningProxy;

beforeAll(async () => {
  controlPlane = await startLocalControlPlane({ policy, sweepIntervalSeconds: 0.1 });
  root = sharedFolder();
  [holding, quick] = await Promise.all([
    startProxy(controlPlane, registry.filesystem(root), ['--hold-seconds', '15']),
    startProxy(controlPlane, registry.filesystem(root), ['--hold-seconds', '0.3', '--hide-denied-tools']),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([holding?.close(), quick?.close()]);
  await controlPlane?.close();
});

const write = (proxy: RunningProxy, path: string, content: string) => proxy.client.callTool({ name: 'write_file', arguments: { path, content } });

describe('signoff-mcp in front of @modelcontextprotocol/server-filesystem', () => {
  it('lists the upstream tools, and hides the always-denied ones when asked', async () => {
    const all = (await holding.client.listTools()).tools.map((tool) => tool.name);
    expect(all).toEqual(expect.arrayContaining(['read_text_file', 'write_file', 'move_file', 'list_allowed_directories']));
    const visible = (await quick.client.listTools()).tools.map((tool) => tool.name);
    // Escalated or denied depending on args: listed. Always denied (a rule, or the default): hidden.
    expect(visible.sort()).toEqual(['get_file_info', 'list_allowed_directories', 'list_directory', 'read_text_file', 'write_file', 'edit_file'].sort());
    expect(all).toContain('read_media_file');
  });

  it('forwards an allowed call and returns the upstream result unchanged', async () => {
    const result = await holding.client.callTool({ name: 'read_text_file', arguments: { path: join(root, 'readme.txt') } });
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toBe('hello from the shared drive');
  });

  it('passes upstream error results through unchanged', async () => {
    const result = await holding.client.callTool({ name: 'read_text_file', arguments: { path: join(root, 'missing.txt') } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('ENOENT');
  });

  it('refuses a denied call with the reason, and the upstream never runs it', async () => {
    const envFile = join(root, `${unique('secrets')}.env`);
    const denied = await write(holding, envFile, 'TOKEN=x');
    expect(denied.isError).toBe(true);
    expect(textOf(denied)).toContain('Agents never write .env files');
    expect(fileText(envFile)).toBeUndefined();

    const source = join(root, `${unique('keep')}.txt`);
    writeFileSync(source, 'stay');
    const move = await holding.client.callTool({ name: 'move_file', arguments: { source, destination: join(root, 'moved.txt') } });
    expect(textOf(move)).toContain('Moving files is not allowed');
    expect(fileText(source)).toBe('stay');
  });

  it('holds an escalated call with progress and runs it once approved inside the hold', async () => {
    const path = join(root, `${unique('held')}.txt`);
    const progress: Array<{ progress: number; message?: string }> = [];
    const call = holding.client.callTool({ name: 'write_file', arguments: { path, content: 'approved text' } }, { onprogress: (update) => progress.push(update), resetTimeoutOnProgress: true });
    const request = await pendingWrite(controlPlane, path);
    expect(request.context).toMatchObject({ mcp: { server: 'secure-filesystem-server', client: 'test-agent' } });
    expect(request.reason).toBe(`Writing ${path} needs a reviewer`);
    expect(fileText(path)).toBeUndefined();
    await controlPlane.decide(request.id, 'ana', 'approve');
    const result = await call;
    expect(textOf(result)).toBe(`Successfully wrote to ${path}`);
    expect(progress[0]?.message).toContain(request.id);
    expect(fileText(path)).toBe('approved text');
  });

  it('answers "awaiting approval" after the hold; the same call retried runs once approved, and never twice', async () => {
    const path = join(root, `${unique('retry')}.txt`);
    const first = await write(quick, path, 'v1');
    const request = await pendingWrite(controlPlane, path);
    expect(first.isError).toBe(true);
    expect(textOf(first)).toContain(`Awaiting human approval: ${request.id}`);
    expect(textOf(first)).toContain('same arguments');
    expect(textOf(await write(quick, path, 'v1'))).toContain(request.id);
    expect((await controlPlane.actionable('ana')).filter((candidate) => (candidate.args as { path: string }).path === path)).toHaveLength(1);
    expect(fileText(path)).toBeUndefined();

    await controlPlane.decide(request.id, 'ana', 'approve');
    expect(textOf(await write(quick, path, 'v1'))).toBe(`Successfully wrote to ${path}`);
    expect(fileText(path)).toBe('v1');
    // Remove the file: if any later retry reached the server, it would be written again.
    rmSync(path);
    for (let retry = 0; retry < 3; retry++) {
      const again = await write(quick, path, 'v1');
      expect(again.isError).toBe(true);
      expect(textOf(again)).toContain('already used');
    }
    expect(fileText(path)).toBeUndefined();
  });

  it('forwards the reviewer-edited args instead of the model’s', async () => {
    const path = join(root, `${unique('edit')}.txt`);
    await write(quick, path, 'rm -rf /');
    const request = await pendingWrite(controlPlane, path);
    await controlPlane.decide(request.id, 'ana', 'approve', { args: { path, content: 'echo safe' }, comment: 'safer script' });
    expect(textOf(await write(quick, path, 'rm -rf /'))).toBe(`Successfully wrote to ${path}`);
    expect(fileText(path)).toBe('echo safe');
  });

  it('never runs a denied call, held or retried', async () => {
    const path = join(root, `${unique('deny')}.txt`);
    const call = write(holding, path, 'nope');
    const request = await pendingWrite(controlPlane, path);
    await controlPlane.decide(request.id, 'ana', 'deny', { comment: 'not this file' });
    const held = await call;
    expect(held.isError).toBe(true);
    expect(textOf(held)).toMatch(/^Not run: .*denied/i);
    expect(textOf(await write(holding, path, 'nope'))).toMatch(/^Not run: /);
    expect(fileText(path)).toBeUndefined();
  });

  it('a cancelled held call never runs; the approval stays unused for the identical call', async () => {
    const path = join(root, `${unique('cancel')}.txt`);
    const controller = new AbortController();
    const call = holding.client.callTool({ name: 'write_file', arguments: { path, content: 'once' } }, { signal: controller.signal });
    const request = await pendingWrite(controlPlane, path);
    controller.abort();
    await expect(call).rejects.toThrow();
    // One round trip on the same connection: the proxy handled the cancellation (messages are processed in order).
    await holding.client.callTool({ name: 'list_allowed_directories', arguments: {} });
    await controlPlane.decide(request.id, 'ana', 'approve');
    // Had the cancelled call claimed the approval and run, this would answer "already used".
    expect(textOf(await write(holding, path, 'once'))).toBe(`Successfully wrote to ${path}`);
    expect(fileText(path)).toBe('once');
  });

  it('never runs an expired call: a client that never retries leaves nothing run, and a late retry is refused', async () => {
    const path = join(root, `${unique('quick-expiry')}.txt`);
    expect(textOf(await write(quick, path, 'late'))).toContain('Awaiting human approval');
    // The request times out on the control plane (0.6 s) while the client never comes back.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(fileText(path)).toBeUndefined();
    const late = await write(quick, path, 'late');
    expect(late.isError).toBe(true);
    expect(textOf(late)).toMatch(/^Not run: .*(expired|timed out|no decision)/i);
    expect(fileText(path)).toBeUndefined();
  });
});

describe('signoff-mcp with the control plane down', () => {
  it('does not forward an escalated call (fail-closed), while allowed and denied calls are decided locally', async () => {
    const stopped = await startLocalControlPlane({ policy });
    const { url, agentKey } = stopped;
    await stopped.close();
    const proxy = await startProxy({ url, agentKey }, registry.filesystem(root), ['--hold-seconds', '1']);
    try {
      const path = join(root, `${unique('down')}.txt`);
      const result = await write(proxy, path, 'x');
      expect(result.isError).toBe(true);
      expect(textOf(result)).toContain('Not run (fail-closed, CONTROL_PLANE_UNAVAILABLE)');
      expect(fileText(path)).toBeUndefined();
      expect(textOf(await proxy.client.callTool({ name: 'read_text_file', arguments: { path: join(root, 'readme.txt') } }))).toBe('hello from the shared drive');
      expect(textOf(await write(proxy, join(root, 'x.env'), 'x'))).toContain('Agents never write .env files');
    } finally {
      await proxy.close();
    }
  });
});

describe('signoff-mcp with a client of the 2026-07-28 (stateless) revision', () => {
  it('guards the same way: allow, deny, awaiting approval, and the identical retry after approval runs once', async () => {
    const proxy = await startProxy(controlPlane, registry.filesystem(root), ['--hold-seconds', '0.3'], '2026-07-28');
    try {
      expect(proxy.client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
      expect(textOf(await proxy.client.callTool({ name: 'read_text_file', arguments: { path: join(root, 'readme.txt') } }))).toBe('hello from the shared drive');
      expect(textOf(await write(proxy, join(root, 'modern.env'), 'x'))).toContain('Agents never write .env files');

      const path = join(root, `${unique('modern')}.txt`);
      const first = await write(proxy, path, 'modern');
      const request = await pendingWrite(controlPlane, path);
      expect(textOf(first)).toContain(`Awaiting human approval: ${request.id}`);
      expect(request.context).toMatchObject({ mcp: { server: 'secure-filesystem-server', client: 'test-agent' } });
      await controlPlane.decide(request.id, 'ana', 'approve');
      expect(textOf(await write(proxy, path, 'modern'))).toBe(`Successfully wrote to ${path}`);
      rmSync(path);
      expect(textOf(await write(proxy, path, 'modern'))).toContain('already used');
      expect(fileText(path)).toBeUndefined();
    } finally {
      await proxy.close();
    }
  });
});
