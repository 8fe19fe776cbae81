// prepare's failure paths that need a failing disk: node:fs/promises' write is made to fail.
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...actual,
    open: async (...args: Parameters<typeof actual.open>) => {
      const handle = await actual.open(...args);
      if (args[1] !== 'w') return handle;
      // A full disk: the error Node gives, which names no file.
      handle.write = (async () => {
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
      }) as typeof handle.write;
      return handle;
    },
  };
});

const { prepareTokenDirectory } = await import('./prepare.js');

describe('prepareTokenDirectory on a full disk', () => {
  it('says where it could not write, and leaves nothing behind', async () => {
    const root = mkdtempSync(join(tmpdir(), 'prepare-full-'));
    writeFileSync(join(root, 'a.txt'), 'some text\nmore text\n'.repeat(100));
    const out = join(root, 'tokens');
    await expect(prepareTokenDirectory({ inputs: [join(root, 'a.txt')], out, workers: 1 })).rejects.toThrow(
      `cannot write ${out}: ENOSPC: no space left on device, write; nothing was written`,
    );
    expect(readdirSync(root)).toEqual(['a.txt']);
  });
});
