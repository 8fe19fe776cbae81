"""Training throughput of nanoGPT's model in PyTorch eager: one JSON request on stdin
({"config": GPTConfig, "batchSize", "learningRate", "weightDecay", "steps", "warmup", "threads"}),
one JSON answer on stdout (median tokens/s over `steps` after `warmup` untimed steps, peak RSS).

A step is what nanoGPT's train.py does on a CPU: a random batch, forward with dropout, backward,
clip_grad_norm_(1.0), AdamW (betas 0.9/0.95, decay on tensors of rank >= 2, foreach kernels).
"""

from model import answer, build_model, median, read_request, timed

request, threads, torch = read_request()
config = request["config"]
torch.manual_seed(1)
model = build_model(torch, config)
model.train()
decay = [p for p in model.parameters() if p.dim() >= 2]
no_decay = [p for p in model.parameters() if p.dim() < 2]
groups = [{"params": decay, "weight_decay": request["weightDecay"]}, {"params": no_decay, "weight_decay": 0.0}]
optimizer = torch.optim.AdamW(groups, lr=request["learningRate"], betas=(0.9, 0.95), foreach=True)
data = torch.randint(config["vocabSize"], (50_000,), dtype=torch.long)
B, T = request["batchSize"], config["blockSize"]


def step():
    starts = torch.randint(len(data) - T - 1, (B,))
    x = torch.stack([data[i : i + T] for i in starts])
    y = torch.stack([data[i + 1 : i + 1 + T] for i in starts])
    loss = model(x, y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    return loss.item()


for _ in range(request.get("warmup", 2)):
    step()
times = [timed(step) for _ in range(request["steps"])]
wall = median([t for t, _ in times])
answer(
    torch,
    threads,
    tokensPerSecond=B * T / wall,
    stepMs=wall * 1000,
    runs=len(times),
    coresUsed=sum(c for _, c in times) / sum(t for t, _ in times),
)
