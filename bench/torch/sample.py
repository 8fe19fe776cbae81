"""Sampling throughput of nanoGPT's model in PyTorch eager with a KV cache: one JSON request on
stdin ({"config": GPTConfig, "tokens", "prompt": [ids], "topK", "temperature", "runs", "threads"}),
one JSON answer on stdout (median tokens/s of `runs` generations after a short warm-up, peak RSS).

nanoGPT's generate() re-runs the whole context per token; this is the straightforward cached
decode a PyTorch user writes instead: the prompt once, then one token a step at the next position,
each layer appending its keys and values to the cache, batch 1, top-k sampling from the last
logits. Random weights (nanoGPT's init): the speed does not depend on them.
"""

from model import answer, build_model, median, read_request, timed

request, threads, torch = read_request()
config = request["config"]
torch.manual_seed(1)
model = build_model(torch, config)
model.eval()
F = torch.nn.functional


@torch.inference_mode()
def generate(tokens):
    idx = torch.tensor([request["prompt"]], dtype=torch.long)
    caches = [[] for _ in range(config["nLayer"])]
    offset, out = 0, []
    for _ in range(tokens):
        logits = model(idx, caches=caches, offset=offset, last_only=True)[:, -1, :] / request.get("temperature", 1.0)
        offset += idx.size(1)
        top_k = request.get("topK")
        if top_k:
            v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
            logits[logits < v[:, [-1]]] = -float("inf")
        idx = torch.multinomial(F.softmax(logits, dim=-1), num_samples=1)
        out.append(idx.item())
    return out


tokens = request["tokens"]
if len(request["prompt"]) + tokens > config["blockSize"]:
    raise SystemExit(f"sample.py: prompt + tokens ({len(request['prompt'])} + {tokens}) exceed blockSize {config['blockSize']}")
generate(min(8, tokens))  # warm-up
times = [timed(lambda: generate(tokens)) for _ in range(request.get("runs", 3))]
wall = median([t for t, _ in times])
answer(
    torch,
    threads,
    tokens=tokens,
    tokensPerSecond=tokens / wall,
    runs=len(times),
    coresUsed=sum(c for _, c in times) / sum(t for t, _ in times),
)
