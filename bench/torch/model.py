"""nanoGPT's model in PyTorch eager, for the benchmark's PyTorch rows (written for this bench, not
copied): token + learned position embeddings, pre-LayerNorm blocks, causal self-attention, a 4x MLP
with GPT-2's tanh GELU, the head tied to the token embedding, dropout where nanoGPT puts it
(embeddings, attention weights, both residual branches). `forward` takes an optional KV cache
(a list of [k, v] per layer, appended to in place) for incremental decoding.

The shape comes from the JavaScript side as the JSON of a mini-gpt GPTConfig (camelCase keys), so
both sides run the same numbers; shared helpers for the two scripts are at the bottom.
"""

import json
import math
import os
import resource
import sys
import time


def set_threads(threads, blas_threads):
    """Before torch is imported: torch's pool and OpenMP get `threads`, the BLAS pool `blas_threads`
    (Debian's torch calls the system BLAS, whose own pool would otherwise take every core)."""
    os.environ["OMP_NUM_THREADS"] = str(threads)
    for name in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(blas_threads)
    import torch

    torch.set_num_threads(threads)
    return torch


def read_request():
    request = json.load(sys.stdin)
    threads = request.get("threads") or os.cpu_count()
    blas_threads = request.get("blasThreads") or threads
    torch = set_threads(threads, blas_threads)
    return request, (threads, blas_threads), torch


def build_model(torch, config):
    nn = torch.nn
    F = torch.nn.functional
    V, T, L, H, C = (config[k] for k in ("vocabSize", "blockSize", "nLayer", "nHead", "nEmbd"))
    p = float(config.get("dropout", 0))
    bias = config.get("bias", True)
    approximate = "tanh" if config.get("gelu", "tanh") == "tanh" else "none"

    class CausalSelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(C, 3 * C, bias=bias)
            self.c_proj = nn.Linear(C, C, bias=bias)
            self.attn_dropout = nn.Dropout(p)
            self.resid_dropout = nn.Dropout(p)
            self.register_buffer("mask", torch.tril(torch.ones(T, T, dtype=torch.bool)).view(1, 1, T, T), persistent=False)

        def forward(self, x, cache=None):
            B, t, _ = x.shape
            q, k, v = self.c_attn(x).split(C, dim=2)
            q, k, v = (z.view(B, t, H, C // H).transpose(1, 2) for z in (q, k, v))
            if cache is not None:
                if cache:
                    k = torch.cat([cache[0], k], dim=2)
                    v = torch.cat([cache[1], v], dim=2)
                    cache[0], cache[1] = k, v
                else:
                    cache.extend([k, v])
            past = k.size(2) - t
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // H))
            if t > 1:
                att = att.masked_fill(~self.mask[:, :, past : past + t, : past + t], float("-inf"))
            att = self.attn_dropout(F.softmax(att, dim=-1))
            y = (att @ v).transpose(1, 2).contiguous().view(B, t, C)
            return self.resid_dropout(self.c_proj(y))

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_fc = nn.Linear(C, 4 * C, bias=bias)
            self.c_proj = nn.Linear(4 * C, C, bias=bias)
            self.dropout = nn.Dropout(p)

        def forward(self, x):
            return self.dropout(self.c_proj(F.gelu(self.c_fc(x), approximate=approximate)))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1 = nn.LayerNorm(C, elementwise_affine=True)
            self.attn = CausalSelfAttention()
            self.ln_2 = nn.LayerNorm(C, elementwise_affine=True)
            self.mlp = MLP()

        def forward(self, x, cache=None):
            x = x + self.attn(self.ln_1(x), cache)
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = nn.Embedding(V, C)
            self.wpe = nn.Embedding(T, C)
            self.drop = nn.Dropout(p)
            self.h = nn.ModuleList(Block() for _ in range(L))
            self.ln_f = nn.LayerNorm(C)
            self.lm_head = nn.Linear(C, V, bias=False)
            self.lm_head.weight = self.wte.weight  # tied
            for name, param in self.named_parameters():
                if name.endswith("c_proj.weight"):
                    nn.init.normal_(param, 0.0, 0.02 / math.sqrt(2 * L))
                elif param.dim() >= 2:
                    nn.init.normal_(param, 0.0, 0.02)
                elif name.endswith("bias"):
                    nn.init.zeros_(param)

        def forward(self, idx, targets=None, caches=None, offset=0, last_only=False):
            t = idx.size(1)
            pos = torch.arange(offset, offset + t, dtype=torch.long)
            x = self.drop(self.wte(idx) + self.wpe(pos))
            for i, block in enumerate(self.h):
                x = block(x, None if caches is None else caches[i])
            x = self.ln_f(x)
            if targets is None:
                return self.lm_head(x[:, -1:, :] if last_only else x)
            logits = self.lm_head(x)
            return F.cross_entropy(logits.view(-1, V), targets.view(-1))

    return GPT()


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def blas():
    """Which BLAS the process loaded: Debian's reference BLAS makes PyTorch ~10x slower."""
    try:
        with open("/proc/self/maps") as maps:
            text = maps.read()
    except OSError:
        return "unknown"
    if "openblas" in text:
        return "openblas"
    if "/blas/libblas" in text:
        return "reference"
    return "bundled"


def median(values):
    return sorted(values)[len(values) // 2]


def timed(fn):
    start, cpu = time.perf_counter(), cpu_seconds()
    fn()
    return time.perf_counter() - start, cpu_seconds() - cpu


def answer(torch, threads, **fields):
    pool, blas_pool = threads
    json.dump({"torch": torch.__version__, "threads": pool, "blasThreads": blas_pool, "blas": blas(), "maxRssMB": peak_rss_mb(), **fields}, sys.stdout)
