import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const readme = readFileSync('README.md', 'utf8');

/** The README's TypeScript blocks that name their file on the first line (`// path`). */
function namedBlocks(): Map<string, string> {
  const blocks = new Map<string, string>();
  for (const [, path, body] of readme.matchAll(/```ts\n\/\/ (examples\/\S+\.ts)\n([\s\S]*?)```/g))
    blocks.set(path!, body!);
  return blocks;
}

describe('README "Your own agent"', () => {
  it('shows exactly the files the out-of-tree test compiles and runs, in at most 60 lines', () => {
    const blocks = namedBlocks();
    const files = ['workflows.ts', 'activities.ts', 'main.ts'].map((f) => `examples/own-agent/${f}`);
    expect([...blocks.keys()].filter((path) => path.startsWith('examples/own-agent/'))).toEqual(files);
    let lines = 0;
    for (const file of files) {
      const source = readFileSync(file, 'utf8');
      expect(blocks.get(file), file).toBe(source);
      lines += source.trimEnd().split('\n').length;
    }
    expect(lines).toBeLessThanOrEqual(60);
  });
});

describe('README "Tools from MCP servers"', () => {
  it('shows the support agent exactly as the example (and its dev-server tests) has it', () => {
    const file = 'examples/order-ops/support-agent.ts';
    expect(namedBlocks().get(file)).toBe(readFileSync(file, 'utf8'));
  });
});
