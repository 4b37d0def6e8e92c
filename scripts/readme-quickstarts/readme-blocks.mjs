// Reads README code blocks by their marker, `<!-- quickstart: NAME -->` on the line(s) right
// before the fence, so what is tested is exactly what the README shows.
import { readFileSync } from 'node:fs';

/** The code of every block marked NAME in the README, in order; throws when there is none. */
export function readBlocks(readmePath, marker) {
  const lines = readFileSync(readmePath, 'utf8').split('\n');
  const blocks = [];
  for (let index = 0; index < lines.length; index += 1) {
    if (lines[index].trim() !== `<!-- quickstart: ${marker} -->`) continue;
    let start = index + 1;
    while (start < lines.length && lines[start].trim() === '') start += 1;
    const fence = /^(```+|~~~+)\s*([\w-]*)/.exec(lines[start] ?? '');
    if (!fence) throw new Error(`${readmePath}:${index + 1}: the marker '${marker}' is not followed by a code block`);
    let end = start + 1;
    while (end < lines.length && !lines[end].startsWith(fence[1])) end += 1;
    if (end === lines.length) throw new Error(`${readmePath}:${start + 1}: the code block marked '${marker}' never closes`);
    blocks.push({ language: fence[2], code: lines.slice(start + 1, end).join('\n'), line: start + 2 });
  }
  if (blocks.length === 0) throw new Error(`${readmePath}: no code block is marked <!-- quickstart: ${marker} -->`);
  return blocks;
}

/** Shell lines of a block with `\` continuations joined and comments dropped. */
export function shellCommands(code) {
  return code
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
    .filter((line) => line !== '');
}

/** Splits one shell command into words (single and double quotes; no expansion). */
export function shellWords(command) {
  const words = [];
  let current = null;
  for (let index = 0; index < command.length; index += 1) {
    const char = command[index];
    if (char === "'" || char === '"') {
      const close = command.indexOf(char, index + 1);
      if (close === -1) throw new Error(`unbalanced quote in: ${command}`);
      current = (current ?? '') + command.slice(index + 1, close);
      index = close;
    } else if (/\s/.test(char)) {
      if (current !== null) words.push(current);
      current = null;
    } else {
      current = (current ?? '') + char;
    }
  }
  if (current !== null) words.push(current);
  return words;
}

/** The package specs of a block's install lines (`npm install …`, `npm i …`, `pnpm add …`), flags dropped. */
export function installSpecs(code) {
  const specs = [];
  for (const command of shellCommands(code)) {
    const words = shellWords(command);
    const start = words[0] === 'npm' && ['install', 'i', 'add'].includes(words[1]) ? 2 : words[0] === 'pnpm' && words[1] === 'add' ? 2 : -1;
    if (start === -1) continue;
    specs.push(...words.slice(start).filter((word) => !word.startsWith('-')));
  }
  return specs;
}

/** `name` of a spec like `@openai/agents@>=0.20 <1`, `ai@^7` or `zod`. */
export function specName(spec) {
  const at = spec.indexOf('@', 1);
  return at === -1 ? spec : spec.slice(0, at);
}
