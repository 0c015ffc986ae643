"""PyTorch reference for the finesec engine's llama / qwen2 forward and backward.

Usage: /usr/bin/python3 reference.py INPUT OUTPUT

INPUT (written by test/engine/grad-torch.test.ts), little-endian:
  b"FSGI", u32 version (1), u32 header length, header JSON (utf-8), zero padding to a multiple
  of 4, then the data section. The header holds the model config, B, T, the LoRA settings and a
  tensor directory [{name, dtype: "f32" | "i32", shape, offset (bytes into the data section)}]:
  tokens / positions / targets [B, T] (i32), every weight by its GGUF name as f32 row-major
  [out, in] (Q8_0 weights dequantised), LoRA "<stem>.lora_a" [r, in] / "<stem>.lora_b" [out, r]
  and, with dropout, "<stem>.dropout" [B*T, in] (0 or 1/(1-p): the engine's mask).
OUTPUT: the same layout with magic b"FSGO": "loss" [1], "logits" [B*T, V], "grad.embeddings"
  [B*T, C] (dloss/d token embeddings), "grad.<stem>.lora_a" / "grad.<stem>.lora_b" and, when
  header.full is true, "grad.<weight name>" for every weight; with header.adam = {steps, lr, beta1,
  beta2, eps, weightDecay}, "adam.losses" [steps]: the loss before each AdamW step on the LoRA
  parameters (torch.optim.AdamW), starting from the same state.

The layers are written here from their definitions (float32 throughout), independently of the
engine: RMSNorm, RoPE (normal: pairs (2i, 2i+1); neox: pairs (i, i + d/2)), grouped-query causal
attention with scale 1/sqrt(head_dim), SwiGLU, LoRA y = x W^T + b + s * B(A drop(x)), and
cross-entropy averaged over the positions whose target is not -1.
"""
import json
import math
import struct
import sys

import torch
import torch.nn.functional as F

VERSION = 1
PROJ = {"q": "attn_q", "k": "attn_k", "v": "attn_v", "o": "attn_output",
        "gate": "ffn_gate", "up": "ffn_up", "down": "ffn_down"}


def read_file(path, magic):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:4] != magic:
        raise SystemExit(f"{path}: bad magic {raw[:4]!r}, expected {magic!r} (regenerate it with the test)")
    version, hlen = struct.unpack_from("<II", raw, 4)
    if version != VERSION:
        raise SystemExit(f"{path}: version {version}, this script reads {VERSION} (regenerate it with the test)")
    header = json.loads(raw[12:12 + hlen].decode("utf-8"))
    data_start = 12 + hlen + (-(12 + hlen)) % 4
    tensors = {}
    for t in header["tensors"]:
        dtype = torch.float32 if t["dtype"] == "f32" else torch.int32
        count = math.prod(t["shape"])
        start = data_start + t["offset"]
        buf = bytearray(raw[start:start + 4 * count])
        tensors[t["name"]] = torch.frombuffer(buf, dtype=dtype).reshape(t["shape"]).clone()
    return header, tensors


def write_file(path, magic, header, tensors):
    directory = []
    blobs = []
    offset = 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        dtype = "i32" if t.dtype == torch.int32 else "f32"
        data = t.to(torch.int32 if dtype == "i32" else torch.float32).numpy().tobytes()
        directory.append({"name": name, "dtype": dtype, "shape": list(t.shape), "offset": offset})
        blobs.append(data)
        offset += len(data)
    header = dict(header, tensors=directory)
    hbytes = json.dumps(header).encode("utf-8")
    pad = (-(12 + len(hbytes))) % 4
    with open(path, "wb") as f:
        f.write(magic + struct.pack("<II", VERSION, len(hbytes)) + hbytes + b"\0" * pad)
        for b in blobs:
            f.write(b)


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope(x, pos, n_rot, base, freq_scale, neox):
    # x [B, T, H, D]; pos [B, T]. theta_i = freq_scale * pos * base^(-2i / n_rot).
    half = n_rot // 2
    inv = base ** (-torch.arange(0, half, dtype=torch.float64) * 2 / n_rot)
    ang = freq_scale * pos.to(torch.float64)[..., None] * inv  # [B, T, half]
    cos = torch.cos(ang).to(x.dtype)[:, :, None, :]
    sin = torch.sin(ang).to(x.dtype)[:, :, None, :]
    rot, rest = x[..., :n_rot], x[..., n_rot:]
    if neox:
        x0, x1 = rot[..., :half], rot[..., half:]
        out = torch.cat([x0 * cos - x1 * sin, x0 * sin + x1 * cos], dim=-1)
    else:
        x0, x1 = rot[..., 0::2], rot[..., 1::2]
        out = torch.stack([x0 * cos - x1 * sin, x0 * sin + x1 * cos], dim=-1).flatten(-2)
    return torch.cat([out, rest], dim=-1)


def main():
    header, t = read_file(sys.argv[1], b"FSGI")
    torch.set_num_threads(1)
    cfg = header["config"]
    B, T = header["B"], header["T"]
    C, NH, NKV, HD = cfg["embd"], cfg["heads"], cfg["kvHeads"], cfg["headDim"]
    lora = header.get("lora")
    full = header.get("full", False)

    weights = {}
    for name, v in t.items():
        if name.endswith(".weight") or name.endswith(".bias"):
            weights[name] = v.requires_grad_(full)
    lora_params = {}
    if lora:
        for name, v in t.items():
            if name.endswith(".lora_a") or name.endswith(".lora_b"):
                lora_params[name] = v.requires_grad_(True)

    def project(x, layer, p):
        stem = f"blk.{layer}.{PROJ[p]}"
        y = x @ weights[stem + ".weight"].T
        if stem + ".bias" in weights:
            y = y + weights[stem + ".bias"]
        if lora and stem + ".lora_a" in lora_params:
            xd = x * t[stem + ".dropout"].reshape(x.shape) if stem + ".dropout" in t else x
            y = y + lora["scale"] * ((xd @ lora_params[stem + ".lora_a"].T) @ lora_params[stem + ".lora_b"].T)
        return y

    def compute():
        """Loss, logits [B*T, V] and the token embeddings [B, T, C] (with its grad retained)."""
        tokens = t["tokens"].long()
        pos = t["positions"]
        emb = F.embedding(tokens, weights["token_embd.weight"])  # [B, T, C]
        if not emb.requires_grad:
            emb.requires_grad_(True)
        emb.retain_grad()
        mask = torch.full((T, T), float("-inf")).triu(1)
        scale = 1.0 / math.sqrt(HD)
        x = emb
        for l in range(cfg["layers"]):
            h = rms_norm(x, weights[f"blk.{l}.attn_norm.weight"], cfg["rmsEps"])
            q = project(h, l, "q").view(B, T, NH, HD)
            k = project(h, l, "k").view(B, T, NKV, HD)
            v = project(h, l, "v").view(B, T, NKV, HD)
            q = rope(q, pos, cfg["ropeDim"], cfg["ropeBase"], cfg["ropeFreqScale"], cfg["ropeNeox"])
            k = rope(k, pos, cfg["ropeDim"], cfg["ropeBase"], cfg["ropeFreqScale"], cfg["ropeNeox"])
            group = NH // NKV
            q = q.transpose(1, 2)                                            # [B, NH, T, HD]
            k = k.transpose(1, 2).repeat_interleave(group, dim=1)            # head h reads kv head h // group
            v = v.transpose(1, 2).repeat_interleave(group, dim=1)
            att = torch.softmax((q @ k.transpose(-1, -2)) * scale + mask, dim=-1)
            o = (att @ v).transpose(1, 2).reshape(B, T, NH * HD)
            x = x + project(o, l, "o")
            h = rms_norm(x, weights[f"blk.{l}.ffn_norm.weight"], cfg["rmsEps"])
            x = x + project(F.silu(project(h, l, "gate")) * project(h, l, "up"), l, "down")
        h = rms_norm(x, weights["output_norm.weight"], cfg["rmsEps"])
        out_w = weights["output.weight"] if "output.weight" in weights else weights["token_embd.weight"]
        logits = h @ out_w.T
        if "output.bias" in weights:
            logits = logits + weights["output.bias"]
        logits = logits.reshape(B * T, -1)
        loss = F.cross_entropy(logits, t["targets"].long().reshape(-1), ignore_index=-1)
        return loss, logits, emb

    loss, logits, emb = compute()
    loss.backward()

    # Copies: the AdamW loop below zeroes the .grad tensors.
    result = {"loss": loss.detach().reshape(1), "logits": logits.detach().clone(),
              "grad.embeddings": emb.grad.reshape(B * T, C).clone()}
    for name, p in lora_params.items():
        result["grad." + name] = p.grad.clone()
    if full:
        for name, p in weights.items():
            result["grad." + name] = p.grad.clone() if p.grad is not None else torch.zeros_like(p)
    adam = header.get("adam")
    if adam:
        # The loss before each of `steps` AdamW steps on the LoRA parameters.
        params = list(lora_params.values())
        opt = torch.optim.AdamW(params, lr=adam["lr"], betas=(adam["beta1"], adam["beta2"]), eps=adam["eps"],
                                weight_decay=adam["weightDecay"])
        losses = []
        for _ in range(adam["steps"]):
            opt.zero_grad()
            loss, _, _ = compute()
            losses.append(loss.item())
            loss.backward()
            opt.step()
        result["adam.losses"] = torch.tensor(losses, dtype=torch.float32)
    write_file(sys.argv[2], b"FSGO", {"torch": torch.__version__}, result)


if __name__ == "__main__":
    main()
