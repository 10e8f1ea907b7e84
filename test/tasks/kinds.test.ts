import { agentTask, defineTask, InvalidTaskRequestError, TaskRegistry } from '../../src/tasks/index.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

const ping = defineTask({
  kind: 'ping',
  workflow: 'pingWorkflow',
  input: z.object({ message: z.string() }),
  args: ({ message }) => [message],
});

describe('task kinds', () => {
  it('refuses definitions that cannot work, at definition time', () => {
    const input = z.object({ a: z.string() });
    expect(() => defineTask({ kind: 'Has Space', workflow: 'w', input })).toThrow(TypeError);
    expect(() => defineTask({ kind: 'x', workflow: 'w', input: z.object({ taskId: z.string() }) })).toThrow(
      /taskId is reserved/,
    );
    expect(() => defineTask({ kind: 'x', workflow: { name: '' }, input })).toThrow(/no name/);
    expect(() => new TaskRegistry([])).toThrow(/at least one/);
    expect(() => new TaskRegistry([ping, ping])).toThrow(/duplicate/);
  });

  it('takes the workflow type from the function, and maps fields to arguments', () => {
    async function supportAgent() {
      return Promise.resolve();
    }
    const kind = agentTask(supportAgent, { kind: 'support', extend: { priority: z.number().optional() } });
    expect(kind).toMatchObject({ kind: 'support', workflowType: 'supportAgent', agent: true });
    const { body } = new TaskRegistry([kind]).parse({ kind: 'support', prompt: 'hi', priority: 2 });
    expect(kind.args(body as never)).toEqual([{ kind: 'support', prompt: 'hi', priority: 2 }]);
    expect(kind.summary({ prompt: 'hi', customerId: 'c1' })).toBe('support task for c1');
    expect(ping.args({ message: 'm' })).toEqual(['m']);
  });

  it('parses a body strictly, naming the field, the known kinds, or the taskId rule', () => {
    const registry = new TaskRegistry([ping]);
    expect(registry.parse({ kind: 'ping', message: 'm', taskId: 'k-1' }).body).toEqual({
      kind: 'ping',
      message: 'm',
      taskId: 'k-1',
    });
    const refused = (value: unknown) => {
      try {
        registry.parse(value);
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidTaskRequestError);
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refused({ message: 'm' })).toBe('kind: expected one of ping');
    expect(refused({ kind: 'pong' })).toBe('kind: expected one of ping, got "pong"');
    expect(refused({ kind: 'ping', message: 'm', extra: 1 })).toContain('extra');
    expect(refused({ kind: 'ping' })).toContain('message');
    expect(refused({ kind: 'ping', message: 'm', taskId: 'has space' })).toContain('taskId');
  });
});
