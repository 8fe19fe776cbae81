import type { CheckpointFiles } from '@embedlab/mini-gpt';
import { clearError, clearOnChange, element, errorBox, field, showError } from '../ui.js';
import { listen, send, training } from '../worker-client.js';

function download(name: string, contents: Uint8Array | string): void {
  const url = URL.createObjectURL(new Blob([contents as BlobPart]));
  const link = element('a', { href: url, download: name });
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function mountFiles(root: HTMLElement): void {
  const save = element('button', { id: 'files-save' }, 'Download checkpoint');
  const input = element('input', { type: 'file', multiple: '', accept: '.safetensors,.json', id: 'files-open' });
  const error = errorBox('files-error');
  const status = element('p', { id: 'files-status', role: 'status' }, 'no model loaded here yet');
  save.addEventListener('click', () => {
    clearError(error);
    send({ type: 'save' });
  });
  input.addEventListener('change', async () => {
    const files = [...(input.files ?? [])];
    input.value = '';
    if (files.length === 0) return;
    try {
      if (training.running) throw new Error('a run is training: stop it (Train, Stop) or let it finish, then load a checkpoint');
      const model = files.find((f) => f.name.endsWith('.safetensors') && !f.name.startsWith('optimizer'));
      // A Hugging Face GPT-2 directory has a config.json beside its model and tokenizer.json.
      const config = files.find((f) => f.name === 'config.json');
      const tokenizer = files.find((f) => f.name.endsWith('.json') && f !== config && f.name !== 'tokenizer_config.json');
      if (!model || !tokenizer)
        throw new Error(
          `choose both files of a checkpoint (a .safetensors model and a tokenizer .json), or a Hugging Face directory's model.safetensors, tokenizer.json and config.json; got ${files.map((f) => f.name).join(', ')}`,
        );
      const checkpoint: CheckpointFiles = { 'model.safetensors': new Uint8Array(await model.arrayBuffer()), 'tokenizer.json': await tokenizer.text() };
      status.textContent = `loading ${model.name} + ${tokenizer.name}${config ? ' + config.json' : ''}…`;
      send({ type: 'load', files: checkpoint, ...(config ? { config: await config.text() } : {}), names: { model: model.name, tokenizer: tokenizer.name } }, [
        checkpoint['model.safetensors'].buffer,
      ]);
    } catch (problem) {
      showError(error, problem);
    }
  });
  listen((message) => {
    if (message.type === 'checkpoint') {
      download('model.safetensors', message.files['model.safetensors']);
      download('tokenizer.json', message.files['tokenizer.json']);
      status.textContent = `saved model.safetensors (${message.files['model.safetensors'].byteLength.toLocaleString('en-US')} bytes) and tokenizer.json`;
      clearError(error);
    } else if (message.type === 'loaded') {
      status.textContent = message.summary;
      clearError(error);
    } else if (message.type === 'error' && message.source === 'files') {
      // What the worker holds did not change when a load failed; say so rather than keep an old summary.
      if (status.textContent?.startsWith('loading')) status.textContent = 'nothing loaded: the model in use is unchanged';
      showError(error, message.message);
    }
  });
  clearOnChange(root, error);
  root.append(
    element(
      'p',
      { class: 'note' },
      'The same checkpoint format as the minigpt CLI and nanoGPT: model.safetensors (nanoGPT names) and tokenizer.json; or a Hugging Face GPT-2 directory (model.safetensors, tokenizer.json and config.json). A model trained here samples with `minigpt sample --checkpoint DIR`; Train can fine-tune the model loaded here.',
    ),
    element('div', { class: 'row' }, save, field('Open a checkpoint (both files) or a Hugging Face directory (three files)', input)),
    error,
    status,
  );
}
