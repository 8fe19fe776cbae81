# Load a minigpt checkpoint into nanoGPT's GPT (its model.py), strictly; needs only torch.
#   python3 load_in_nanogpt.py names-model --nanogpt ~/nanoGPT [--ids '[[0, 5, 9]]']
import argparse, json, struct, sys
import torch

# nanoGPT's GPT has learned positions (wpe), a head tied to wte and exact GELU (nn.GELU()).
NANOGPT = {"position": "learned", "tieWeights": True, "gelu": "exact", "embeddingScale": "none"}

def read_minigpt(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    metadata = header.pop("__metadata__", {})
    if "config" not in metadata: raise ValueError(f"{path}: no minigpt config in its metadata")
    config = json.loads(metadata["config"])
    state = {}
    for name, t in header.items():
        if t["dtype"] != "F32": raise ValueError(f"{path}: {name} is {t['dtype']}, expected F32")
        begin, end = t["data_offsets"]
        state[name] = torch.frombuffer(bytearray(data[8 + n + begin : 8 + n + end]), dtype=torch.float32).reshape(t["shape"])
    return state, config

def load_into_nanogpt(checkpoint_dir, GPT, GPTConfig):
    state, config = read_minigpt(f"{checkpoint_dir}/model.safetensors")
    for field, wanted in NANOGPT.items():  # refuse what nanoGPT's GPT would hold or compute differently
        if config.get(field, wanted) != wanted:
            raise ValueError(f"{checkpoint_dir}: {field} is {json.dumps(config[field])}; nanoGPT's GPT needs {json.dumps(wanted)}")
    model = GPT(GPTConfig(vocab_size=config["vocabSize"], block_size=config["blockSize"], n_layer=config["nLayer"],
                          n_head=config["nHead"], n_embd=config["nEmbd"], bias=config["bias"], dropout=config["dropout"]))
    state["lm_head.weight"] = state["transformer.wte.weight"]  # minigpt stores the tied matrix once
    missing, unexpected = model.load_state_dict(state, strict=False)
    # Without flash attention (PyTorch < 2) nanoGPT keeps its causal mask as a buffer, attn.bias: not a weight.
    missing = [name for name in missing if not name.endswith(".attn.bias")]
    if missing or unexpected:
        raise ValueError(f"{checkpoint_dir}: not nanoGPT's weights: missing {missing[:5]}, unexpected {unexpected[:5]}")
    return model

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--nanogpt", default=".", help="nanoGPT's directory (its model.py)")
    parser.add_argument("--ids", help="token ids [[...]]: print the logits of every position as JSON")
    args = parser.parse_args()
    sys.path.insert(0, args.nanogpt)
    from model import GPT, GPTConfig
    try:
        model = load_into_nanogpt(args.checkpoint, GPT, GPTConfig).eval()
    except ValueError as error:
        sys.exit(f"load_in_nanogpt: {error}")
    if args.ids:
        idx = torch.tensor(json.loads(args.ids))
        with torch.no_grad():
            logits, _ = model(idx, targets=idx)  # with targets, nanoGPT returns every position's logits
        print(json.dumps({"logits": logits.flatten().tolist()}))
    else:
        print(f"loaded {sum(p.numel() for p in model.parameters())} parameters into nanoGPT's GPT", file=sys.stderr)
