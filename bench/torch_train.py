"""PyTorch side of bench/train.ts: the same llama model (RMSNorm, RoPE, causal attention,
SwiGLU, untied output) with a frozen f32 base and LoRA (rank r on q, k, v, o, gate, up, down),
timing full training steps (forward, masked cross-entropy, backward, AdamW on the LoRA weights)
on one sequence. Torch 1.13 has no int8 CPU matmul for training, hence the f32 base.
Run with Debian's /usr/bin/python3; prints one JSON object.

usage: torch_train.py '{"layers": 12, "embd": 512, "heads": 8, "kv_heads": 8, "ff": 1536, "vocab": 8192,
                        "seq": 512, "rank": 16, "alpha": 32, "threads": 1, "warmup": 1, "steps": 3,
                        "max_seconds": 20}'
"""
import json
import math
import resource
import sys
import time

import torch
import torch.nn.functional as F


def blas_library():
    try:
        with open("/proc/self/maps") as maps:
            libs = {line.split()[-1] for line in maps if "blas" in line.lower() and "/" in line}
        return ", ".join(sorted(libs)) or "unknown"
    except OSError:
        return "unknown"


class LoraLinear(torch.nn.Module):
    """y = x W^T + scale * (x A^T) B^T with W frozen; A, B trained (PEFT's layout)."""

    def __init__(self, inp, out, rank, alpha):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(out, inp) * 0.02, requires_grad=False)
        self.lora_a = torch.nn.Parameter(torch.empty(rank, inp).uniform_(-1 / math.sqrt(inp), 1 / math.sqrt(inp)))
        self.lora_b = torch.nn.Parameter(torch.zeros(out, rank))
        self.scale = alpha / rank

    def forward(self, x):
        return F.linear(x, self.weight) + self.scale * F.linear(F.linear(x, self.lora_a), self.lora_b)


class RMSNorm(torch.nn.Module):
    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(dim), requires_grad=False)
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope(x, cos, sin):
    # x [T, H, D]; pairs (i, i + D/2) (the Hugging Face layout; the cost is the same either way)
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)


class Block(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        e, hd = c["embd"], c["embd"] // c["heads"]
        r, a = c["rank"], c["alpha"]
        self.heads, self.kv_heads, self.hd = c["heads"], c["kv_heads"], hd
        self.attn_norm = RMSNorm(e)
        self.q = LoraLinear(e, c["heads"] * hd, r, a)
        self.k = LoraLinear(e, c["kv_heads"] * hd, r, a)
        self.v = LoraLinear(e, c["kv_heads"] * hd, r, a)
        self.o = LoraLinear(c["heads"] * hd, e, r, a)
        self.ffn_norm = RMSNorm(e)
        self.gate = LoraLinear(e, c["ff"], r, a)
        self.up = LoraLinear(e, c["ff"], r, a)
        self.down = LoraLinear(c["ff"], e, r, a)

    def forward(self, x, cos, sin, mask):
        T = x.shape[0]
        h = self.attn_norm(x)
        q = rope(self.q(h).view(T, self.heads, self.hd), cos, sin).transpose(0, 1)
        k = rope(self.k(h).view(T, self.kv_heads, self.hd), cos, sin).transpose(0, 1)
        v = self.v(h).view(T, self.kv_heads, self.hd).transpose(0, 1)
        if self.kv_heads != self.heads:
            k = k.repeat_interleave(self.heads // self.kv_heads, dim=0)
            v = v.repeat_interleave(self.heads // self.kv_heads, dim=0)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(self.hd) + mask
        y = (att.softmax(-1) @ v).transpose(0, 1).reshape(T, -1)
        x = x + self.o(y)
        h = self.ffn_norm(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Model(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embd = torch.nn.Parameter(torch.randn(c["vocab"], c["embd"]) * 0.02, requires_grad=False)
        self.blocks = torch.nn.ModuleList([Block(c) for _ in range(c["layers"])])
        self.norm = RMSNorm(c["embd"])
        self.output = torch.nn.Parameter(torch.randn(c["vocab"], c["embd"]) * 0.02, requires_grad=False)
        hd = c["embd"] // c["heads"]
        T = c["seq"]
        inv = 10000.0 ** (-torch.arange(0, hd, 2).float() / hd)
        ang = torch.arange(T).float()[:, None] * inv[None, :]
        self.cos, self.sin = ang.cos()[:, None, :], ang.sin()[:, None, :]
        self.mask = torch.full((T, T), float("-inf")).triu(1)

    def forward(self, tokens):
        x = self.embd[tokens]
        for b in self.blocks:
            x = b(x, self.cos, self.sin, self.mask)
        return F.linear(self.norm(x), self.output)


def main():
    c = json.loads(sys.argv[1])
    torch.manual_seed(0)
    torch.set_num_threads(c["threads"])
    model = Model(c)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.0)
    tokens = torch.randint(0, c["vocab"], (c["seq"],))
    targets = torch.roll(tokens, -1)
    targets[-1] = -100  # the last position predicts nothing, as in the engine

    def step():
        opt.zero_grad(set_to_none=False)
        loss = F.cross_entropy(model(tokens), targets, ignore_index=-100)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        return loss.item()

    for _ in range(c["warmup"]):
        step()
    times = []
    # up to `steps` timed steps, but stop once `max_seconds` are spent (a slow reference BLAS)
    while len(times) < c["steps"] and (not times or sum(times) < c.get("max_seconds", 20)):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    seconds = sum(times) / len(times)
    print(json.dumps({
        "threads": c["threads"],
        "step_seconds": times,
        "tokens_per_s": c["seq"] / seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "trainable": sum(p.numel() for p in params),
        "frozen": sum(p.numel() for p in model.parameters() if not p.requires_grad),
        "torch": torch.__version__,
        "blas": blas_library(),
    }))


if __name__ == "__main__":
    main()
