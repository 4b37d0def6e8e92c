// Follows the README quick starts as a new user would: packs the packages, creates a fresh project
// outside the repository, installs the tarballs and the README install lines' packages from the
// registry with plain npm (and, as a separate project, pnpm), type-checks every quick start under
// strict TypeScript exactly as the README shows it, and runs it against a control plane started
// with the README's `npx signoff serve`, with a scripted OpenAI-compatible model behind
// OPENAI_BASE_URL (and the same script on the Anthropic Messages API behind ANTHROPIC_BASE_URL,
// for the Claude Agent SDK's bundled Claude Code). A reviewer approves with the CLI (`signoff approvals approve`, editing the
// args), and each quick start must run its tool exactly once, with the approved args.
//
//   node scripts/readme-quickstarts/run.mjs [--pm npm|pnpm]… [--only name,…] [--report file.json]
//                                           [--packs dir] [--keep] [--work dir]
//
// --packs reuses the tarballs in dir (an empty dir is filled first); without it the packages are
// built and packed into the work dir.
//
// Writes a vitest-shaped JSON report (`--report`) that scripts/vitest-summary.mjs adds up.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { packPackages } from '../pack-packages.mjs';
import { NOT_COVERED, QUICKSTARTS, REVIEWER, SERVER } from './quickstarts.mjs';
import { installSpecs, readBlocks, shellCommands, shellWords, specName } from './readme-blocks.mjs';
import { CLAUDE_CALL, startScriptedClaude, startScriptedModel } from './scripted-model.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const { values: options } = parseArgs({
  options: {
    pm: { type: 'string', multiple: true },
    only: { type: 'string' },
    report: { type: 'string' },
    packs: { type: 'string' },
    keep: { type: 'boolean' },
    work: { type: 'string' }, // for working on the harness: reuse this folder's projects when their install line is unchanged
  },
});
const packageManagers = options.pm ?? ['npm', 'pnpm'];
const chosen = options.only ? QUICKSTARTS.filter((quickstart) => options.only.split(',').includes(quickstart.name)) : QUICKSTARTS;
// A quick start whose framework needs a newer Node (Mastra: >= 22.13) is skipped, with the reason
// printed, rather than installed and run on a Node its packages do not support.
const nodeTooOld = (quickstart) => quickstart.minNode && !atLeast(process.versions.node, quickstart.minNode);
const selected = chosen.filter((quickstart) => !nodeTooOld(quickstart));
const CONTROL_PLANE = 'http://127.0.0.1:8787';
// Where TypeScript, Node's types and the MCP quick start's upstream server come from: what a user
// adds to run a TypeScript file at all, pinned like the repository's own.
const HARNESS_PACKAGES = ['typescript@~5.9.3', '@types/node@^20.19.0', '@modelcontextprotocol/server-filesystem'];
const KEYS = { SIGNOFF_AGENT_KEY: 'sk_signoff_quickstart_agent', SIGNOFF_KEY_ANA: 'sk_signoff_quickstart_ana' };
const results = []; // { name, status: passed|failed|skipped, message }
const log = (line) => console.log(`[quickstarts] ${line}`);
const started = Date.now();

const work = options.work ?? mkdtempSync(join(tmpdir(), 'signoff-quickstarts-'));
if (options.work) mkdirSync(work, { recursive: true });
try {
  await main();
} finally {
  if (!options.keep && !options.work) rmSync(work, { recursive: true, force: true });
  else log(`kept ${work}`);
}

async function main() {
  log(`Node ${process.version}; package managers: ${packageManagers.join(', ')}; work dir ${work}`);
  for (const packageManager of packageManagers) {
    for (const quickstart of chosen.filter(nodeTooOld)) {
      const message = `needs Node >= ${quickstart.minNode} (its packages declare it), this is ${process.version}`;
      results.push({ name: `${packageManager} · ${quickstart.name}`, status: 'skipped', message });
      log(`- ${packageManager} · ${quickstart.name} skipped: ${message}`);
    }
  }
  if (selected.length === 0) {
    log('none of the selected quick starts runs on this Node');
    return finish();
  }
  let tarballs;
  if (options.packs && !readdirSync(options.packs).some((file) => file.endsWith('.tgz'))) {
    packPackages(options.packs); // an empty --packs folder is filled, so later runs (other Node majors) reuse it
  }
  if (options.packs) {
    tarballs = Object.fromEntries(
      readdirSync(options.packs)
        .filter((file) => file.endsWith('.tgz'))
        .map((file) => [`@signoff/${file.replace(/^signoff-/, '').replace(/-\d+\.\d+\.\d+.*\.tgz$/, '')}`, join(options.packs, file)]),
    );
  } else {
    const packs = join(work, 'packs');
    rmSync(packs, { recursive: true, force: true });
    mkdirSync(packs);
    tarballs = packPackages(packs);
  }
  const prebuilds = seedBetterSqlitePrebuild();
  const model = await startScriptedModel();
  const claude = await startScriptedClaude();
  try {
    for (const packageManager of packageManagers) await followWith(packageManager, tarballs, { openai: model.url, anthropic: claude.url }, prebuilds);
  } finally {
    await model.close();
    await claude.close();
  }
  finish();
}

function finish() {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  for (const result of results) counts[result.status] += 1;
  console.log('\nREADME quick starts:');
  for (const result of results) console.log(`  ${result.status === 'passed' ? '✓' : result.status === 'skipped' ? '-' : '✗'} ${result.name}${result.message ? `: ${result.message.split('\n')[0]}` : ''}`);
  for (const { name, reason } of NOT_COVERED) console.log(`  not covered: ${name} (${reason})`);
  console.log(`quick starts: ${counts.passed} passed, ${counts.failed} failed${counts.skipped ? `, ${counts.skipped} skipped` : ''} (${Math.round((Date.now() - started) / 1000)} s)`);
  if (options.report) writeReport(options.report, counts);
  // Only skipped (a Node too old for every selected quick start) is not a failure; nothing at all is.
  process.exitCode = counts.failed === 0 && (counts.passed > 0 || counts.skipped > 0) ? 0 : 1;
}

/** `version` >= `minimum`, both `major.minor.patch`. */
function atLeast(version, minimum) {
  const [a, b] = [version, minimum].map((each) => each.split('.').map(Number));
  for (let index = 0; index < 3; index += 1) if ((a[index] ?? 0) !== (b[index] ?? 0)) return (a[index] ?? 0) > (b[index] ?? 0);
  return true;
}

/** One fresh project for one package manager, holding every quick start. */
async function followWith(packageManager, tarballs, modelUrls, prebuilds) {
  const project = join(work, `project-${packageManager}`);
  rmSync(join(project, 'src'), { recursive: true, force: true });
  rmSync(join(project, 'dist'), { recursive: true, force: true });
  // A reused project starts from an empty control plane and no saved runs, like a fresh one.
  if (existsSync(project)) for (const file of readdirSync(project)) if (/^(signoff\.db.*|db-.*\.txt|.*\.tools\.jsonl|mcp-data|checkpoints\.db.*|agent\.db.*)$/.test(file)) rmSync(join(project, file), { recursive: true, force: true });
  mkdirSync(join(project, 'src', 'apps'), { recursive: true });
  const fixtures = join(here, 'fixtures');
  for (const file of ['signoff.yaml', 'signoff.policy.yaml', 'tsconfig.json']) cpSync(join(fixtures, file), join(project, file));
  const manifest = { name: `quickstarts-${packageManager}`, private: true, type: 'module' };
  writeFileSync(join(project, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  // The @signoff/* packages are not on the registry: their ranges on each other must resolve to
  // the tarballs. npm reuses the tarball installed at the top for them; pnpm needs overrides.
  const overrides = Object.fromEntries(Object.entries(tarballs).map(([name, path]) => [name, `file:${path}`]));
  if (packageManager === 'pnpm') {
    writeFileSync(join(project, 'pnpm-workspace.yaml'), `overrides:\n${Object.entries(overrides).map(([name, spec]) => `  "${name}": "${spec}"`).join('\n')}\n`);
  }

  // 1. Install what the READMEs' install lines name (the @signoff/* ones from the tarballs).
  const specs = new Map();
  const addSpecs = (list) => {
    for (const spec of list) {
      const name = specName(spec);
      specs.set(name, name.startsWith('@signoff/') ? (tarballs[name] ?? fail(`no tarball for ${name}`)) : spec);
    }
  };
  const serverBlocks = readBlocks(join(root, SERVER.readme), SERVER.marker);
  const installCode = [serverBlocks.map((block) => block.code).join('\n')];
  for (const quickstart of selected) {
    if (quickstart.install) installCode.push(readBlocks(join(root, quickstart.readme), quickstart.install).map((block) => block.code).join('\n'));
    if (quickstart.kind === 'mcp') installCode.push(readBlocks(join(root, quickstart.readme), quickstart.marker).map((block) => block.code).join('\n'));
  }
  for (const code of installCode) addSpecs(installSpecs(code));
  for (const quickstart of selected) addSpecs(quickstart.extraPackages ?? []);
  addSpecs(HARNESS_PACKAGES);
  // The install flags the READMEs give for this package manager (pnpm's --allow-build=…) come along too.
  const flags = [
    ...new Set(
      installCode.flatMap(shellCommands).flatMap((command) => {
        const words = shellWords(command);
        return words[0] === packageManager && ['install', 'add', 'i'].includes(words[1]) ? words.filter((word) => word.startsWith('--')) : [];
      }),
    ),
  ];
  const installCommand = packageManager === 'npm' ? ['npm', 'install', '--no-audit', '--no-fund', ...flags] : ['pnpm', 'add', ...flags];
  log(`${packageManager}: ${installCommand.join(' ')} ${[...specs.values()].map((spec) => (spec.endsWith('.tgz') ? `./${spec.split('/').pop()}` : spec)).join(' ')}`);
  const installStarted = Date.now();
  const installLine = JSON.stringify([...installCommand, ...specs.values()]);
  const installedMark = join(project, '.installed');
  const reuse = options.work && existsSync(installedMark) && readFileSync(installedMark, 'utf8') === installLine;
  const installEnv = prebuilds ? { ...process.env, npm_config_better_sqlite3_local_prebuilds: prebuilds } : process.env;
  const install = reuse
    ? { code: 0, output: '' }
    : await runProcess(installCommand[0], [...installCommand.slice(1), ...specs.values()], { cwd: project, env: installEnv, timeoutMs: 15 * 60_000 });
  if (install.code === 0) writeFileSync(installedMark, installLine);
  log(`${packageManager}: install ${install.code === 0 ? 'done' : 'FAILED'} in ${Math.round((Date.now() - installStarted) / 1000)} s`);
  if (install.code !== 0) {
    log(`${packageManager}: the install failed:\n${install.output.slice(-5000)}`);
    for (const quickstart of selected) results.push({ name: `${packageManager} · ${quickstart.name}`, status: 'failed', message: `install failed:\n${install.output.slice(-3000)}` });
    return;
  }

  // 2. Write each quick start as a file: "your code" (one import line from its app) + the README's
  // blocks, and the files it reads (a policy) from the README's blocks too.
  for (const app of new Set(['record', ...selected.filter((each) => each.app).map((each) => each.app)])) {
    cpSync(join(fixtures, 'apps', `${app}.ts`), join(project, 'src', 'apps', `${app}.ts`));
  }
  const sources = {};
  for (const quickstart of selected.filter((each) => each.kind !== 'mcp')) {
    const blocks = readBlocks(join(root, quickstart.readme), quickstart.marker);
    const file = `src/${quickstart.name}.ts`;
    const prelude = quickstart.provides ? `import { ${quickstart.provides.join(', ')} } from './apps/${quickstart.app}.js'; // what the README leaves to you` : '// (the README leaves nothing to you)';
    writeFileSync(join(project, file), `${prelude}\n${inYourFolders(quickstart, project, blocks.map((block) => block.code).join('\n'))}`);
    sources[quickstart.name] = { file, blocks };
    for (const [name, marker] of Object.entries(quickstart.files ?? {})) {
      const code = readBlocks(join(root, quickstart.readme), marker).map((block) => block.code).join('\n');
      writeFileSync(join(project, name), `${inYourFolders(quickstart, project, code)}\n`);
    }
  }

  // 3. Type-check (and emit) them all at once under strict TypeScript.
  const typecheck = await runProcess(join(project, 'node_modules', '.bin', 'tsc'), ['-p', '.'], { cwd: project, timeoutMs: 5 * 60_000 });
  const typeErrors = (quickstart) =>
    typecheck.output
      .split('\n')
      .filter((line) => line.startsWith(`src/${quickstart.name}.ts(`) || line.startsWith(`src/apps/${quickstart.app}.ts(`) || line.startsWith('src/apps/record.ts('))
      .map((line) =>
        line.startsWith(`src/${quickstart.name}.ts(`)
          ? line.replace(/^src\/[\w-]+\.ts\((\d+),(\d+)\)/, (_, row, column) => `${quickstart.readme}:${readmeLine(sources[quickstart.name], Number(row))}:${column}`)
          : line,
      );
  if (typecheck.code !== 0) log(`${packageManager}: tsc reported errors:\n${typecheck.output}`);

  // 4. The control plane, started as the server README says.
  const env = {
    ...process.env,
    ...KEYS,
    SIGNOFF_API_KEY: KEYS.SIGNOFF_AGENT_KEY,
    SIGNOFF_URL: CONTROL_PLANE,
    OPENAI_BASE_URL: modelUrls.openai,
    OPENAI_API_KEY: 'sk-scripted-model',
    ANTHROPIC_BASE_URL: modelUrls.anthropic,
    ANTHROPIC_API_KEY: 'sk-ant-scripted-model',
  };
  const serve = serveCommand(serverBlocks);
  if (await portInUse(8787)) {
    for (const quickstart of selected) results.push({ name: `${packageManager} · ${quickstart.name}`, status: 'failed', message: '127.0.0.1:8787 is taken: stop whatever listens there (the READMEs\' control plane address)' });
    return;
  }
  // Its own process group: `npx` starts the server as a child, and both must stop at the end.
  const server = spawnLogged(serve[0], serve.slice(1), { cwd: project, env, detached: true });
  try {
    await waitForHealth(server);
    for (const quickstart of selected) {
      const name = `${packageManager} · ${quickstart.name}`;
      const quickstartStarted = Date.now();
      try {
        if (quickstart.kind === 'mcp') await followMcp(quickstart, project, env);
        else {
          const errors = typeErrors(quickstart);
          if (errors.length > 0) throw new Error(`does not type-check under strict TypeScript:\n${errors.join('\n')}`);
          if (quickstart.kind === 'local') await followLocal(quickstart, project, env);
          else if (quickstart.kind === 'claude') await followClaude(quickstart, project, env);
          else await followAgent(quickstart, project, env);
        }
        results.push({ name, status: 'passed' });
        log(`✓ ${name} (${Math.round((Date.now() - quickstartStarted) / 1000)} s)`);
      } catch (error) {
        results.push({ name, status: 'failed', message: error.message });
        log(`✗ ${name}: ${error.message}`);
      }
    }
  } finally {
    try {
      process.kill(-server.child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    await server.exited;
  }
}

/**
 * better-sqlite3 installs with `prebuild-install || node-gyp rebuild`: users download a prebuilt
 * binary from GitHub, which CI cannot reach, so every fresh install here would compile it (about a
 * minute each). The repository's own install already compiled the same version for the running
 * Node; this offers that binary as the "download", through prebuild-install's documented
 * local-prebuilds folder. When the versions or the Node ABI differ, nothing is offered and the
 * install compiles, as before. SIGNOFF_QUICKSTARTS_COMPILE=1 turns this off.
 */
function seedBetterSqlitePrebuild() {
  if (process.env.SIGNOFF_QUICKSTARTS_COMPILE === '1') return undefined;
  const store = join(root, 'node_modules', '.pnpm');
  const folder = existsSync(store) ? readdirSync(store).find((name) => name.startsWith('better-sqlite3@')) : undefined;
  if (!folder) return undefined;
  const packageDir = join(store, folder, 'node_modules', 'better-sqlite3');
  const binding = join(packageDir, 'build', 'Release', 'better_sqlite3.node');
  if (!existsSync(binding)) return undefined;
  try {
    process.dlopen({ exports: {} }, binding); // built for this Node?
  } catch {
    log(`the repository's better-sqlite3 is not built for Node ${process.version}: fresh installs compile it`);
    return undefined;
  }
  const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
  const prebuilds = join(work, 'prebuilds');
  mkdirSync(prebuilds, { recursive: true });
  const archive = join(prebuilds, `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`);
  execFileSync('tar', ['czf', archive, '-C', packageDir, 'build/Release/better_sqlite3.node']);
  log(`better-sqlite3 ${version}: fresh installs take this Node's build from ${archive} (prebuild-install's local prebuilds)`);
  return prebuilds;
}

/** A quick start that decides locally: it must run cleanly, run no tool, and ask the control plane nothing. */
async function followLocal(quickstart, project, env) {
  const toolLog = join(project, `${quickstart.name}.tools.jsonl`);
  rmSync(toolLog, { force: true });
  const before = await countRequests(env);
  const run = spawnLogged(process.execPath, [`dist/${quickstart.name}.js`], { cwd: project, env: { ...env, QUICKSTART_TOOL_LOG: toolLog } });
  const code = await withTimeout(run, 60_000);
  if (code !== 0) throw new Error(`exited with ${code}:\n${run.output().slice(-3000)}`);
  if (existsSync(toolLog)) throw new Error(`a tool ran without approval: ${readFileSync(toolLog, 'utf8')}`);
  if ((await countRequests(env)) !== before) throw new Error('the local guard sent a request to the control plane');
}

async function countRequests(env) {
  const response = await fetch(`${CONTROL_PLANE}/v1/approvals?limit=1000`, { headers: { authorization: `Bearer ${env.SIGNOFF_AGENT_KEY}` } });
  return ((await response.json()).data ?? []).length;
}

/** Runs one agent quick start until its tool ran (at most twice: a paused run is resumed by running it again). */
async function followAgent(quickstart, project, env) {
  const toolLog = join(project, `${quickstart.name}.tools.jsonl`);
  rmSync(toolLog, { force: true });
  const reviewer = createReviewer(project, env);
  const runOnce = async (approve) => {
    const run = spawnLogged(process.execPath, [`dist/${quickstart.name}.js`], { cwd: project, env: { ...env, QUICKSTART_TOOL_LOG: toolLog } });
    const code = approve ? await reviewer.decideWhile(run, 120_000) : await withTimeout(run, 120_000);
    if (code !== 0) throw new Error(`exited with ${code}:\n${run.output().slice(-3000)}`);
  };
  if (quickstart.reviewerDecides === 'after-run') {
    // A quick start that saves the paused run and exits: the reviewer decides after it has stopped,
    // then "later, in any process" is the same program run again.
    await runOnce(false);
    if (existsSync(toolLog)) throw new Error(`the tool ran before anyone approved: ${readFileSync(toolLog, 'utf8')}`);
    await reviewer.decidePending();
    if (reviewer.decided().length === 0) throw new Error('the first run left no approval request pending');
    await runOnce(true);
  } else {
    // Blocking quick starts wait for the decision; one that still paused is resumed by running it again.
    await runOnce(true);
    if (!existsSync(toolLog)) await runOnce(true);
  }
  await reviewer.expectRanOnce(quickstart.tool, existsSync(toolLog) ? readFileSync(toolLog, 'utf8').trim().split('\n').map((line) => JSON.parse(line)) : []);
}

/** The MCP quick start: the README's `signoff-mcp …` command, driven by an MCP client over stdio. */
async function followMcp(quickstart, project, env) {
  const [block] = readBlocks(join(root, quickstart.readme), quickstart.marker);
  const commands = shellCommands(block.code).map(shellWords);
  const proxy = commands.find((words) => words[0] === 'signoff-mcp' || (words[0] === 'npx' && words.includes('@signoff/mcp')));
  if (!proxy) throw new Error(`no signoff-mcp command in the block at ${quickstart.readme}:${block.line}`);
  const exported = commands.filter((words) => words[0] === 'export').map((words) => words[1].split('=')[0]);
  if (!exported.includes('SIGNOFF_API_KEY')) throw new Error('the MCP quick start no longer exports SIGNOFF_API_KEY');
  // `/srv/data` stands for your directory: here a fresh one. The command is otherwise as written.
  const data = join(project, 'mcp-data');
  mkdirSync(data, { recursive: true });
  const command = proxy.map((word) => (word === '/srv/data' ? data : word));
  if (command[0] === 'signoff-mcp') command[0] = join(project, 'node_modules', '.bin', 'signoff-mcp');
  const target = join(data, 'note.txt');
  const requested = { path: target, content: 'hello from the agent' };
  const reviewer = createReviewer(project, env);
  cpSync(join(here, 'fixtures', 'mcp-client.mjs'), join(project, 'mcp-client.mjs'));
  const client = spawnLogged(process.execPath, [join(project, 'mcp-client.mjs'), JSON.stringify(command), JSON.stringify(requested)], {
    cwd: project,
    env: { ...env, QUICKSTART_BETWEEN_CALLS: target },
  });
  const code = await reviewer.decideWhile(client, 180_000);
  if (code !== 0) throw new Error(`the MCP client exited with ${code}:\n${client.output().slice(-3000)}`);
  const answers = client.stdout().trim().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
  const [first, retry] = answers.filter((answer) => answer.attempt);
  const written = answers.find((answer) => 'written' in answer)?.written;
  if (!first || first.isError || written === undefined) throw new Error(`the approved write_file did not run: ${JSON.stringify(first)}\n${client.output().slice(-2000)}`);
  // The retry of the identical call must not reach the server again: the file removed after the first call stays gone.
  if (existsSync(target)) throw new Error(`the retried call was forwarded a second time: ${JSON.stringify(retry)}`);
  await reviewer.expectRanOnce('write_file', [{ tool: 'write_file', args: { ...requested, content: written } }]);
}

/**
 * The Claude Agent SDK quick start, run as written with the real Claude Code its SDK bundles: the
 * scripted model asks for the `git push` command the README's policy escalates, the run defers, the
 * snippet's `resumeWhenDecided` waits, the reviewer approves with the command edited, and Claude
 * Code's Bash tool runs the approved command once. Then the program runs again and the reviewer
 * denies: nothing more runs.
 */
async function followClaude(quickstart, project, env) {
  const repo = join(project, quickstart.yourFolders['/work/repo']);
  // Claude Code keeps its sessions (which a resume reads) in its home: a fresh one, not this machine's.
  const home = join(project, 'claude-home');
  for (const folder of [repo, home]) {
    rmSync(folder, { recursive: true, force: true });
    mkdirSync(folder);
  }
  // Offline here: no telemetry, update checks or other calls Claude Code would make besides the model's.
  const claudeEnv = { ...env, HOME: home, CLAUDE_CONFIG_DIR: home, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', DISABLE_TELEMETRY: '1', DISABLE_AUTOUPDATER: '1' };
  const pushes = () => (existsSync(join(repo, 'pushes.log')) ? readFileSync(join(repo, 'pushes.log'), 'utf8').split('\n').filter(Boolean) : []);
  const runWith = async (reviewer) => {
    const run = spawnLogged(process.execPath, [`dist/${quickstart.name}.js`], { cwd: project, env: claudeEnv });
    const code = await reviewer.decideWhile(run, 180_000);
    if (code !== 0) throw new Error(`exited with ${code}:\n${run.output().slice(-3000)}`);
    return run;
  };

  const reviewer = createReviewer(project, env);
  const approved = await runWith(reviewer);
  const { id, requestedArgs, approvedArgs } = reviewer.only();
  if (!isDeepStrictEqual(requestedArgs, CLAUDE_CALL.input)) throw new Error(`the request holds ${JSON.stringify(requestedArgs)}, not the model's call ${JSON.stringify(CLAUDE_CALL.input)}`);
  // The model's command would write `git push origin main`; the reviewer's edit writes `… release`.
  const ran = pushes();
  if (!isDeepStrictEqual(ran, ['git push origin release'])) {
    throw new Error(`Bash wrote ${JSON.stringify(ran)} to pushes.log; expected one line from the approved command ${JSON.stringify(approvedArgs.command)}:\n${approved.output().slice(-3000)}`);
  }
  await reviewer.expectExecuted(id);

  // The same program again (a new session, so a new request); this time the reviewer denies.
  const denier = createReviewer(project, env, { verdict: 'deny' });
  const denied = await runWith(denier);
  denier.only();
  if (!isDeepStrictEqual(pushes(), ran)) throw new Error(`a denied call ran: pushes.log holds ${JSON.stringify(pushes())}:\n${denied.output().slice(-3000)}`);
}

/**
 * The reviewer at the terminal: `signoff approvals list/show/approve --as ana`, as the CLI README
 * shows. With `verdict: 'deny'`, `signoff approvals deny` (the CLI README's heading names it).
 */
function createReviewer(project, env, { verdict = 'approve' } = {}) {
  const decideCommand = verdict === 'approve' ? reviewerCommand('approve') : ['approvals', 'deny'];
  const signoff = (args) => runProcess(join(project, 'node_modules', '.bin', 'signoff'), args, { cwd: project, env, timeoutMs: 60_000 });
  const decided = [];
  const decidePending = async () => {
    // The reviewer finds what waits (over HTTP: cheaper than a CLI process per look), then decides
    // with the CLI command the CLI README documents.
    const response = await fetch(`${CONTROL_PLANE}/v1/approvals?actionable=true`, { headers: { authorization: `Bearer ${env.SIGNOFF_KEY_ANA}` } });
    if (!response.ok) throw new Error(`GET /v1/approvals answered ${response.status}: ${await response.text()}`);
    for (const request of (await response.json()).data ?? []) {
      if (request.status !== 'pending' || decided.some((each) => each.id === request.id)) continue;
      // The reviewer edits the args, so the run must use what was approved, not what the model asked for.
      const approvedArgs = verdict === 'approve' ? editArgs(request.args) : undefined;
      const words = approvedArgs ? ['--args', JSON.stringify(approvedArgs), '--comment', 'checked the invoice'] : ['--comment', 'not today'];
      const decide = await signoff([...decideCommand, request.id, '--as', 'ana', ...words]);
      if (decide.code !== 0) throw new Error(`signoff ${decideCommand.join(' ')} ${request.id} failed: ${decide.output}`);
      decided.push({ id: request.id, requestedArgs: request.args, approvedArgs });
    }
  };
  const only = () => {
    if (decided.length !== 1) throw new Error(`expected one approval request, the reviewer saw ${decided.length}`);
    return decided[0];
  };
  const expectExecuted = async (id) => {
    const shown = await signoff([...reviewerCommand('show'), id, '--as', 'ana']);
    if (!/^executed: /m.test(shown.output)) throw new Error(`${id} was not claimed:\n${shown.output}`);
  };
  return {
    decided: () => decided,
    only,
    decidePending,
    expectExecuted,
    async decideWhile(run, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      let done = false;
      run.exited.then(() => (done = true));
      while (!done) {
        if (Date.now() > deadline) {
          run.child.kill('SIGKILL');
          throw new Error(`still running after ${timeoutMs / 1000} s:\n${run.output().slice(-3000)}`);
        }
        await decidePending();
        await Promise.race([run.exited, sleep(400)]);
      }
      return run.exited;
    },
    async expectRanOnce(tool, runs) {
      const { id, approvedArgs } = only();
      if (runs.length !== 1) throw new Error(`the tool ran ${runs.length} times, expected once: ${JSON.stringify(runs)}`);
      if (runs[0].tool !== tool || !isDeepStrictEqual(runs[0].args, approvedArgs)) {
        throw new Error(`the tool ran ${JSON.stringify(runs[0])}, expected ${tool} with the approved args ${JSON.stringify(approvedArgs)}`);
      }
      await expectExecuted(id);
    },
  };
}

/** Edits what the model asked for, as a reviewer would, staying within the same rule. */
function editArgs(args) {
  if (args && typeof args.amount === 'number') return { ...args, amount: args.amount - 50 };
  if (args && typeof args.content === 'string') return { ...args, content: `${args.content} (approved by ana)` };
  // A shell command (the Claude quick start's `git push`): to the release branch, not main.
  if (args && typeof args.command === 'string' && args.command.includes('origin main')) return { ...args, command: args.command.replace('origin main', 'origin release') };
  throw new Error(`no reviewer edit for args ${JSON.stringify(args)}`);
}

/** `signoff approvals <action>`, as the CLI README's marked block writes it. */
function reviewerCommand(action) {
  const commands = readBlocks(join(root, REVIEWER.readme), REVIEWER.marker).flatMap((block) => shellCommands(block.code)).map(shellWords);
  const words = commands.find((each) => each.includes('approvals') && each.includes(action));
  if (!words) throw new Error(`${REVIEWER.readme}: the block marked '${REVIEWER.marker}' has no 'approvals ${action}' command`);
  return words.slice(words.indexOf('approvals'), words.indexOf(action) + 1);
}

function serveCommand(blocks) {
  const words = blocks.flatMap((block) => shellCommands(block.code)).map(shellWords).find((each) => each.includes('serve'));
  if (!words) throw new Error(`${SERVER.readme}: the block marked '${SERVER.marker}' has no serve command`);
  return words;
}

/** A quick start's code with each folder that stands for yours (`/work/repo`) replaced by a fresh one in the project. */
function inYourFolders(quickstart, project, code) {
  let result = code;
  for (const [folder, local] of Object.entries(quickstart.yourFolders ?? {})) result = result.replaceAll(folder, join(project, local));
  return result;
}

/** The README line of a row of the generated file (row 1 is the prelude; the blocks follow). */
function readmeLine(source, row) {
  let offset = 2;
  for (const block of source.blocks) {
    const length = block.code.split('\n').length;
    if (row < offset + length) return block.line + row - offset;
    offset += length;
  }
  return `(generated line ${row})`;
}

async function waitForHealth(server) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (server.done()) throw new Error(`signoff serve exited:\n${server.output()}`);
    try {
      if ((await fetch(`${CONTROL_PLANE}/v1/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`signoff serve did not answer /v1/health within 60 s:\n${server.output()}`);
}

function portInUse(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

function spawnLogged(command, args, { cwd, env, detached = false }) {
  const child = spawn(command, args, { cwd, env, detached, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let all = '';
  let finished = false;
  child.stdout.on('data', (chunk) => ((stdout += chunk), (all += chunk)));
  child.stderr.on('data', (chunk) => (all += chunk));
  const exited = new Promise((resolve) => {
    child.on('error', (error) => ((all += `\n${error.message}`), (finished = true), resolve(127)));
    child.on('close', (code, signal) => ((finished = true), resolve(code ?? (signal ? 128 : 1))));
  });
  return { child, exited, output: () => all, stdout: () => stdout, done: () => finished };
}

async function runProcess(command, args, { cwd, env = process.env, timeoutMs }) {
  const run = spawnLogged(command, args, { cwd, env });
  const timer = setTimeout(() => run.child.kill('SIGKILL'), timeoutMs);
  const code = await run.exited;
  clearTimeout(timer);
  return { code, output: run.output() };
}

function writeReport(file, counts) {
  const assertionResults = results.map((result) => ({
    ancestorTitles: ['README quick starts'],
    fullName: `README quick starts ${result.name}`,
    title: result.name,
    status: result.status === 'skipped' ? 'pending' : result.status,
    failureMessages: result.message && result.status === 'failed' ? [result.message] : [],
  }));
  const report = {
    numTotalTests: results.length,
    numPassedTests: counts.passed,
    numFailedTests: counts.failed,
    numPendingTests: counts.skipped,
    numTodoTests: 0,
    success: counts.failed === 0 && counts.passed > 0,
    testResults: [{ name: 'scripts/readme-quickstarts', status: counts.failed === 0 ? 'passed' : 'failed', assertionResults }],
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
}

async function withTimeout(run, timeoutMs) {
  const timer = setTimeout(() => run.child.kill('SIGKILL'), timeoutMs);
  const code = await run.exited;
  clearTimeout(timer);
  return code;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function fail(message) {
  throw new Error(message);
}
