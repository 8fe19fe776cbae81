import type { CheckpointFiles } from '@embedlab/mini-gpt';
import { clearError, element, field, showError } from '../ui.js';
import { listen, send } from '../worker-client.js';

function download(name: string, contents: Uint8Array | string): void {
  const url = URL.createObjectURL(new Blob([contents as BlobPart]));
  const link = element('a', { href: url, download: name });
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function mountFiles(root: HTMLElement): void {
  const save = element('button', { id: 'files-save' }, 'Download checkpoint');
  const input = element('input', { type: 'file', multiple: '', accept: '.safetensors,.json', id: 'files-open' });
  const status = element('p', { id: 'files-status', role: 'status' });
  save.addEventListener('click', () => send({ type: 'save' }));
  input.addEventListener('change', async () => {
    const files = [...(input.files ?? [])];
    const model = files.find((f) => f.name.endsWith('.safetensors') && !f.name.startsWith('optimizer'));
    const tokenizer = files.find((f) => f.name.endsWith('.json'));
    if (!model || !tokenizer) {
      showError(new Error('choose both files of a checkpoint: model.safetensors and tokenizer.json'));
      return;
    }
    const checkpoint: CheckpointFiles = { 'model.safetensors': new Uint8Array(await model.arrayBuffer()), 'tokenizer.json': await tokenizer.text() };
    send({ type: 'load', files: checkpoint }, [checkpoint['model.safetensors'].buffer]);
  });
  listen((message) => {
    if (message.type === 'checkpoint') {
      download('model.safetensors', message.files['model.safetensors']);
      download('tokenizer.json', message.files['tokenizer.json']);
      status.textContent = `saved model.safetensors (${message.files['model.safetensors'].byteLength.toLocaleString('en-US')} bytes) and tokenizer.json`;
      clearError();
    } else if (message.type === 'loaded') {
      status.textContent = message.summary;
      clearError();
    }
  });
  root.append(
    element('p', { class: 'note' }, 'The same checkpoint format as the minigpt CLI and nanoGPT: model.safetensors (nanoGPT names) and tokenizer.json. A model trained here samples with `minigpt sample --checkpoint DIR`.'),
    element('div', { class: 'row' }, save, field('Open a checkpoint (both files)', input)),
    status,
  );
}
