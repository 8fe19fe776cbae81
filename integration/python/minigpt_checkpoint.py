"""minigpt checkpoint directories and token directories in PyTorch.

The model is nanoGPT's architecture as packages/test-utils/python/nanogpt_reference.py writes it
(the PyTorch reference of mini-gpt's parity tests), so what trains here is the model minigpt
loads back, including the options nanoGPT lacks (sinusoidal, RoPE, ALiBi and no positions, an
untied head, tanh GELU, no biases). Configs it cannot reproduce exactly are refused, naming the
field; weights are loaded strictly (no missing, unexpected or reshaped tensor passes).
"""
import hashlib
import json
import os
import shutil
import struct
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "packages" / "test-utils" / "python"))
from nanogpt_reference import GPT, read_safetensors, write_safetensors  # noqa: E402

CHECKPOINT_FORMAT = "embedlab-mini-gpt/1"
TOKEN_FORMAT = "embedlab-tokens/1"
MAX_HEADER_BYTES = 100 * 1024 * 1024
MAX_META_BYTES = 1 << 20

# GPTConfig fields (packages/mini-gpt/src/config.ts) and what the reference model can hold.
KNOWN_FIELDS = {"vocabSize", "blockSize", "nLayer", "nHead", "nEmbd", "dropout", "bias", "position", "rope", "tieWeights", "gelu", "embeddingScale"}
POSITIONS = ("learned", "sinusoidal", "rope", "alibi", "none")


class CheckpointError(ValueError):
    """A file or config this code will not use; the message names the file and the field."""


def check_config(config, source="config"):
    """Refuses, naming the field, any config the reference model would not reproduce exactly."""
    if not isinstance(config, dict):
        raise CheckpointError(f"{source}: the config must be a JSON object, got {type(config).__name__}")
    unknown = sorted(set(config) - KNOWN_FIELDS)
    if unknown:
        raise CheckpointError(f"{source}: unknown config field(s) {', '.join(unknown)}: this script does not know how to reproduce them")
    for field in ("vocabSize", "blockSize", "nLayer", "nHead", "nEmbd"):
        value = config.get(field)
        if not (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
            raise CheckpointError(f"{source}: {field} must be a positive integer, got {json.dumps(value)}")
    if config["nEmbd"] % config["nHead"]:
        raise CheckpointError(f"{source}: nEmbd {config['nEmbd']} must be a multiple of nHead {config['nHead']}")
    for field in ("bias", "tieWeights"):
        if not isinstance(config.get(field), bool):
            raise CheckpointError(f"{source}: {field} must be true or false, got {json.dumps(config.get(field))}")
    if config.get("position") not in POSITIONS:
        raise CheckpointError(f"{source}: position must be one of {', '.join(POSITIONS)}, got {json.dumps(config.get('position'))}")
    if config.get("gelu") not in ("exact", "tanh"):
        raise CheckpointError(f"{source}: gelu must be 'exact' or 'tanh', got {json.dumps(config.get('gelu'))}")
    if config.get("dropout") != 0:
        raise CheckpointError(
            f"{source}: dropout is {json.dumps(config.get('dropout'))}; the PyTorch model here has no dropout, so training would not be the run "
            "the config describes. Train with dropout 0 (the names preset), or add dropout to the model first"
        )
    if config.get("embeddingScale", "none") != "none":
        raise CheckpointError(f"{source}: embeddingScale {json.dumps(config['embeddingScale'])} is not modelled in PyTorch here (only 'none')")
    rope = config.get("rope")
    if rope is not None:
        if not isinstance(rope, dict) or set(rope) - {"base", "layout", "scaling", "rotaryDim"}:
            raise CheckpointError(f"{source}: rope must be {{ base, layout, scaling, rotaryDim }}, got {json.dumps(rope)}")
        if rope.get("layout", "half") != "half":
            raise CheckpointError(f"{source}: rope.layout {json.dumps(rope['layout'])} is not modelled in PyTorch here (only 'half', GPT-NeoX's rotate_half)")
        if rope.get("scaling"):
            raise CheckpointError(f"{source}: rope.scaling {json.dumps(rope['scaling'])} is not modelled in PyTorch here (train unscaled; scale at minigpt eval)")
    return config


def _read_header(path):
    """The safetensors header and the number of data bytes after it, read without the data."""
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise CheckpointError(f"{path}: too short for a safetensors file")
        (n,) = struct.unpack("<Q", head)
        if n > MAX_HEADER_BYTES or n > os.path.getsize(path) - 8:
            raise CheckpointError(f"{path}: header length {n} is larger than the file allows")
        try:
            return json.loads(f.read(n)), os.path.getsize(path) - 8 - n
        except ValueError as error:
            raise CheckpointError(f"{path}: the header is not JSON ({error})") from None


def _expected_state(model, config):
    """The model's state_dict as minigpt stores it: a tied head is stored once, as wte."""
    return {k: v for k, v in model.state_dict().items() if not (config["tieWeights"] and k == "lm_head.weight")}


def load_checkpoint(directory):
    """(model, config, step) from a minigpt checkpoint directory's model.safetensors, loaded strictly."""
    path = Path(directory) / "model.safetensors"
    if not path.exists():
        raise CheckpointError(f"{directory} is not a minigpt checkpoint directory: model.safetensors is missing")
    header, data_bytes = _read_header(path)
    metadata = header.get("__metadata__") or {}
    if metadata.get("format") != CHECKPOINT_FORMAT or "config" not in metadata:
        raise CheckpointError(f"{path}: no {CHECKPOINT_FORMAT} config in its metadata (not written by minigpt?)")
    config = check_config(json.loads(metadata["config"]), f"{path} config")
    model = GPT(config)
    expected = _expected_state(model, config)
    # Shapes and dtypes are checked against the config before any tensor is read.
    entries = {name: entry for name, entry in header.items() if name != "__metadata__"}
    missing = sorted(set(expected) - set(entries))
    unexpected = sorted(set(entries) - set(expected))
    if missing or unexpected:
        raise CheckpointError(f"{path}: tensors do not match the config: missing {missing[:5]}, unexpected {unexpected[:5]}")
    for name, entry in entries.items():
        if entry.get("dtype") != "F32":
            raise CheckpointError(f"{path}: {name} is {entry.get('dtype')}; minigpt checkpoints are F32")
        if list(entry.get("shape", [])) != list(expected[name].shape):
            raise CheckpointError(f"{path}: {name} has shape {entry.get('shape')}, the config needs {list(expected[name].shape)}")
        offsets = entry.get("data_offsets")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)) or offsets[1] - offsets[0] != 4 * expected[name].numel():
            raise CheckpointError(f"{path}: {name} has data_offsets {offsets}, not the {4 * expected[name].numel()} bytes its shape needs")
        if offsets[0] < 0 or offsets[1] > data_bytes:
            raise CheckpointError(f"{path}: {name} has data_offsets {offsets}, past the {data_bytes} bytes of data in the file")
    tensors, _ = read_safetensors(path)
    if config["tieWeights"]:
        tensors["lm_head.weight"] = tensors["transformer.wte.weight"]
    model.load_state_dict(tensors, strict=True)
    step = int(metadata.get("step", "0"))
    return model, config, step


def save_checkpoint(model, config, directory, step, tokenizer_json):
    """Writes a directory `minigpt` loads: model.safetensors (nanoGPT names, PyTorch layouts, the
    config, step and tokenizer fingerprint in its metadata) and a copy of tokenizer.json."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer_bytes = Path(tokenizer_json).read_bytes()
    metadata = {
        "format": CHECKPOINT_FORMAT,
        "config": json.dumps(config),
        "step": str(step),
        "tokenizer": hashlib.sha256(tokenizer_bytes).hexdigest(),
    }
    # Written beside and renamed, so a crash never leaves a half-written model.safetensors.
    partial = directory / "model.safetensors.partial"
    write_safetensors(partial, _expected_state(model, config), metadata)
    os.replace(partial, directory / "model.safetensors")
    if Path(tokenizer_json).resolve() != (directory / "tokenizer.json").resolve():
        shutil.copyfile(tokenizer_json, directory / "tokenizer.json")


def token_dtype(data_dir):
    """numpy-style dtype of a token directory: meta.json's, or uint16 (nanoGPT's own directories)."""
    meta_path = Path(data_dir) / "meta.json"
    if not meta_path.exists():
        return "uint16", None
    if meta_path.stat().st_size > MAX_META_BYTES:
        raise CheckpointError(f"{meta_path} is larger than {MAX_META_BYTES} bytes")
    meta = json.loads(meta_path.read_text())
    if meta.get("format") != TOKEN_FORMAT:
        raise CheckpointError(f"{meta_path}: format must be {TOKEN_FORMAT!r}, got {json.dumps(meta.get('format'))}")
    if meta.get("dtype") not in ("uint16", "uint32"):
        raise CheckpointError(f"{meta_path}: dtype must be 'uint16' or 'uint32', got {json.dumps(meta.get('dtype'))}")
    return meta["dtype"], meta


def read_tokens(data_dir, split, vocab_size):
    """The ids of `split`.bin (train or val), memory-mapped as nanoGPT does (a corpus larger than
    memory trains), every id checked against the vocabulary first."""
    dtype, meta = token_dtype(data_dir)
    name = meta[split]["file"] if meta and isinstance(meta.get(split), dict) else f"{split}.bin"
    if not isinstance(name, str) or "/" in name or name in ("", ".", ".."):
        raise CheckpointError(f"{data_dir}/meta.json: {split}.file must be a file name in the directory, got {json.dumps(name)}")
    path = Path(data_dir) / name
    width = 2 if dtype == "uint16" else 4
    size = path.stat().st_size
    if size == 0 or size % width:
        raise CheckpointError(f"{path}: {size} bytes is not a positive whole number of {dtype} tokens")
    ids = np.memmap(path, dtype="<u2" if width == 2 else "<u4", mode="r")
    for start in range(0, len(ids), 1 << 24):
        chunk = ids[start : start + (1 << 24)]
        if int(chunk.max()) >= vocab_size:
            at = start + int(np.argmax(chunk >= vocab_size))
            raise CheckpointError(f"{path}: token {at} is id {int(ids[at])}, outside the model's {vocab_size} ids (a token directory of another tokenizer?)")
    return ids


def token_windows(ids, starts, length):
    """int64 [len(starts), length] tensor of ids[s : s + length] for each start."""
    return torch.from_numpy(np.stack([ids[s : s + length] for s in starts.tolist()]).astype(np.int64))


def evaluate_loss(model, ids, context, max_tokens=200_000):
    """Mean next-token cross-entropy as `minigpt eval` scores it (packages/mini-gpt/src/evaluate.ts):
    the first max(max_tokens, context) + 1 ids, consecutive non-overlapping windows of `context`
    tokens, every position of each window predicted once."""
    ids = torch.from_numpy(np.asarray(ids[: max(max_tokens, context) + 1], dtype=np.int64))
    if len(ids) < context + 1:
        raise CheckpointError(f"evaluation needs at least context + 1 = {context + 1} tokens, got {len(ids)}")
    windows = (len(ids) - 1) // context
    x = ids[: windows * context].view(windows, context)
    y = ids[1 : windows * context + 1].view(windows, context)
    total = 0.0
    with torch.no_grad():
        for i in range(0, windows, 64):
            logits = model(x[i : i + 64])
            total += F.cross_entropy(logits.view(-1, logits.size(-1)), y[i : i + 64].reshape(-1), reduction="none").double().sum().item()
    return {"loss": total / (windows * context), "tokens": windows * context, "context": context}
