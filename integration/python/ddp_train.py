"""Continue a minigpt checkpoint with PyTorch DistributedDataParallel, then save a directory
`minigpt` loads again.

    python3 ddp_train.py --checkpoint names-model --data names-tokens --out names-ddp --nproc 2
    torchrun --nproc_per_node 2 ddp_train.py --checkpoint ... --data ... --out ...

Started plainly, it spawns --nproc processes itself (torch.multiprocessing.spawn, gloo on CPU, a
free local port). Started by torchrun, or with RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT set
by hand, each process is the rank it is told. Every step draws one global batch of
world_size x --batch-size windows of train.bin (the same draws on every rank, so a single
process with the batch doubled sees the same data), each rank trains on its share, and DDP
averages the gradients. Rank 0 then scores val.bin as `minigpt eval` does, saves --out, and
prints one JSON line.
"""
import argparse
import json
import os
import socket
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel

from minigpt_checkpoint import CheckpointError, evaluate_loss, load_checkpoint, read_tokens, save_checkpoint, token_windows


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", required=True, help="minigpt checkpoint directory to start from")
    parser.add_argument("--data", required=True, help="token directory: train.bin, val.bin (uint16 unless meta.json says uint32)")
    parser.add_argument("--out", required=True, help="directory to write (model.safetensors + tokenizer.json)")
    parser.add_argument("--steps", type=int, default=20, help="optimizer steps (0: load and save, a round trip)")
    parser.add_argument("--batch-size", type=int, default=16, help="windows per process per step")
    parser.add_argument("--lr", type=float, default=1e-3, help="AdamW learning rate (constant)")
    parser.add_argument("--weight-decay", type=float, default=0.1, help="AdamW decay on matrices (nanoGPT's rule: not on biases and LayerNorms)")
    parser.add_argument("--grad-clip", type=float, default=1.0, help="clip the global gradient norm (0: off)")
    parser.add_argument("--seed", type=int, default=1337, help="seed of the batch draws")
    parser.add_argument("--nproc", type=int, default=2, help="processes to spawn when not started by torchrun")
    parser.add_argument("--threads", type=int, default=0, help="torch threads per process (0: cores / processes)")
    parser.add_argument("--eval-max-tokens", type=int, default=200_000, help="val.bin tokens scored, as minigpt eval --max-tokens")
    args = parser.parse_args(argv)
    for name in ("steps", "batch_size", "nproc", "threads", "eval_max_tokens"):
        if getattr(args, name) < (0 if name in ("steps", "threads") else 1):
            parser.error(f"--{name.replace('_', '-')} must be {'>= 0' if name in ('steps', 'threads') else '>= 1'}, got {getattr(args, name)}")
    return args


def tokenizer_path(checkpoint, data):
    """The checkpoint's tokenizer.json, refused when the token directory was made with another."""
    ours = Path(checkpoint) / "tokenizer.json"
    if not ours.exists():
        raise CheckpointError(f"{checkpoint}: tokenizer.json is missing")
    theirs = Path(data) / "tokenizer.json"
    if theirs.exists() and json.loads(theirs.read_text()) != json.loads(ours.read_text()):
        raise CheckpointError(f"{theirs} is not the tokenizer of {checkpoint}: the token ids would mean other characters")
    return ours


def check_out(out):
    """--out must be new: over a minigpt directory, whose loader reads current/, the new weights would be ignored."""
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise CheckpointError(f"--out {out} is a file, not a directory")
    taken = [name for name in ("model.safetensors", "current", "optimizer.safetensors") if (path / name).exists() or (path / name).is_symlink()]
    if taken:
        raise CheckpointError(f"--out {out} already holds a checkpoint ({', '.join(taken)}); write to a new directory")


def optimizer_for(model, lr, weight_decay):
    """AdamW as nanoGPT's configure_optimizers sets it up: decay on matrices only."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.95), eps=1e-8)


def log(rank, message):
    print(f"[rank {rank}] {message}", file=sys.stderr, flush=True)


def worker(rank, world_size, args, init_method):
    local_processes = int(os.environ.get("LOCAL_WORLD_SIZE", world_size))  # torchrun's count on this machine
    torch.set_num_threads(args.threads or max(1, (os.cpu_count() or 1) // local_processes))
    dist.init_process_group("gloo", init_method=init_method, rank=rank, world_size=world_size)
    try:
        train(rank, world_size, args)
    finally:
        dist.destroy_process_group()


def train(rank, world_size, args):
    model, config, start_step = load_checkpoint(args.checkpoint)
    tokenizer = tokenizer_path(args.checkpoint, args.data)
    block = config["blockSize"]
    train_ids = read_tokens(args.data, "train", config["vocabSize"])
    if len(train_ids) < block + 1:
        raise CheckpointError(f"{args.data}: train.bin has {len(train_ids)} tokens, fewer than blockSize + 1 = {block + 1}")
    ddp = DistributedDataParallel(model)
    optimizer = optimizer_for(ddp.module, args.lr, args.weight_decay)
    generator = torch.Generator().manual_seed(args.seed)
    losses = []
    started = time.time()
    for step in range(args.steps):
        # One global draw, identical on every rank; this rank trains on its slice of it.
        starts = torch.randint(len(train_ids) - block, (world_size * args.batch_size,), generator=generator)
        mine = starts[rank * args.batch_size : (rank + 1) * args.batch_size]
        windows = token_windows(train_ids, mine, block + 1)
        x, y = windows[:, :-1], windows[:, 1:]
        logits = ddp(x)
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), y.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # DDP all-reduces the gradients here: every rank now holds their mean
        if args.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(ddp.parameters(), args.grad_clip)
        optimizer.step()
        mean_loss = loss.detach().clone()
        dist.all_reduce(mean_loss)
        losses.append(mean_loss.item() / world_size)
        if rank == 0:
            log(rank, f"step {start_step + step + 1}  loss {losses[-1]:.4f}")
    # Replicas must have stayed identical: compare every parameter with rank 0's.
    difference = torch.zeros(())
    with torch.no_grad():
        for p in ddp.module.parameters():
            reference = p.detach().clone()
            dist.broadcast(reference, 0)
            difference = torch.maximum(difference, (p - reference).abs().max())
    dist.all_reduce(difference, op=dist.ReduceOp.MAX)
    if rank == 0:
        model = ddp.module.eval()
        val_ids = read_tokens(args.data, "val", config["vocabSize"])
        evaluation = evaluate_loss(model, val_ids, block, args.eval_max_tokens)
        save_checkpoint(model, config, args.out, start_step + args.steps, tokenizer)
        result = {
            "out": str(args.out),
            "world_size": world_size,
            "batch_size": args.batch_size,
            "start_step": start_step,
            "step": start_step + args.steps,
            "train_losses": losses,
            "max_replica_difference": difference.item(),
            "eval": evaluation,
            "seconds": time.time() - started,
        }
        print(json.dumps(result), flush=True)
    dist.barrier()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv=None):
    args = parse_args(argv)
    try:
        # Checked once here, so a bad checkpoint or token directory is one clear message, not one per rank.
        _, config, _ = load_checkpoint(args.checkpoint)
        tokenizer_path(args.checkpoint, args.data)
        check_out(args.out)
        read_tokens(args.data, "train", config["vocabSize"])
    except (ValueError, OSError) as error:  # CheckpointError, bad JSON or numbers in a file, unreadable files
        print(f"ddp_train: {error}", file=sys.stderr)
        return 2
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ:
        # torchrun, or RANK / WORLD_SIZE / MASTER_ADDR / MASTER_PORT set by hand.
        missing = [name for name in ("MASTER_ADDR", "MASTER_PORT") if name not in os.environ]
        if missing:
            print(f"ddp_train: RANK and WORLD_SIZE are set but {' and '.join(missing)} not", file=sys.stderr)
            return 2
        worker(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), args, "env://")
    elif args.nproc == 1:
        worker(0, 1, args, f"tcp://127.0.0.1:{free_port()}")  # in this process: no second import of torch
    else:
        mp.spawn(worker, args=(args.nproc, args, f"tcp://127.0.0.1:{free_port()}"), nprocs=args.nproc, join=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
