"""练习 5：把阅读清单里的论文写成代码——每篇核心论文一个小实现。

下面的每个函数都是阅读清单中某篇论文所计算的东西，照着论文里的公式来写。检查会拿它和
维护良好的库在同样的数据上算出的结果比较：torch 的 `scaled_dot_product_attention` 和
`nn.MultiheadAttention`，transformers 的 `DataCollatorForLanguageModeling`、`ViTEmbeddings`、
`CLIPModel` 和 Qwen2 的旋转位置编码，以及 peft 的 LoRA 层。

全篇通用的约定（各个 docstring 会重复其中要紧的部分）：
- 除非 docstring 另有说明，张量都是 `torch.float32`；形状写成 `(batch, seq, dim)` 这样；
- 布尔注意力掩码为 True 的位置表示这个 query 可以关注这个 key（torch 的
  `scaled_dot_product_attention` 的约定）；`nn.MultiheadAttention` 的 `key_padding_mask` 含义
  相反（True = 填充位置，被忽略），在本练习中出现时保持它自己的含义；
- 权重按 `nn.Linear` 的布局：`y = x @ W.T + b`，`W` 的形状是 `(out_features, in_features)`。

运行检查：`pytest checks/test_ex5.py`（加上 `--lang zh` 显示中文提示）。

English:
Exercise 5: the reading list in code — one small implementation per core paper.

Each function below is what a paper of the reading list computes, written from its
equations. The checks compare it with what a well-kept library computes on the same
numbers: torch's `scaled_dot_product_attention` and `nn.MultiheadAttention`, transformers'
`DataCollatorForLanguageModeling`, `ViTEmbeddings`, `CLIPModel` and Qwen2's rotary embedding,
and peft's LoRA layer.

Conventions used throughout (the docstrings repeat what matters):
- tensors are `torch.float32` unless a docstring says otherwise; shapes are written `(batch, seq, dim)`;
- a boolean attention mask is True where a query MAY attend to a key (torch's
  `scaled_dot_product_attention` convention); `nn.MultiheadAttention`'s `key_padding_mask` is
  the opposite (True = padding, ignored) and keeps that meaning where it appears here;
- weights follow `nn.Linear`: `y = x @ W.T + b`, `W` of shape `(out_features, in_features)`.

Run the checks: `pytest checks/test_ex5.py` (add `--lang zh` for Chinese hints).
"""
from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

# ---------------------------------------------------------------- ex5.1 Transformer


def scaled_dot_product_attention(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                                 attn_mask: torch.Tensor | None = None, *, is_causal: bool = False) -> torch.Tensor:
    """Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V ——《Attention Is All You Need》公式 (1)。

    参数：
        query：`(..., L, d_k)`；key：`(..., S, d_k)`；value：`(..., S, d_v)`，三者的前导维度
            （例如 batch、heads）相同。
        attn_mask：`None`，或可以广播成 `(..., L, S)` 的掩码，分两种：
            - 布尔型：True = 这个 query 可以关注这个 key，False = 不可以；
            - 浮点型：在 softmax 之前加到分数上（0 = 关注，`-inf` = 不关注）。
        is_causal：query i 只关注 j <= i 的 key（从左上角开始的下三角，与
            `torch.nn.functional.scaled_dot_product_attention` 相同）。和 `attn_mask` 同时给出时
            两者都要生效：布尔掩码与因果掩码取交集；浮点掩码照样加到分数上，j > i 的 key 仍然被屏蔽。
            （torch 自己的函数拒绝这种组合，这里要求支持。）

    返回：
        `(..., L, d_v)`：对每个 query，在 key 所在的最后一维上对缩放后的分数做 softmax，再用它
        对 value 加权求和。每个 query 至少有一个可以关注的 key。

    English:
    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V — "Attention Is All You Need", eq. (1).

    Args:
        query: `(..., L, d_k)`; key: `(..., S, d_k)`; value: `(..., S, d_v)`, the same leading
            dimensions (e.g. batch, heads) for all three.
        attn_mask: `None`, or broadcastable to `(..., L, S)`, either
            - bool: True = the query may attend to that key, False = it may not;
            - float: added to the scores before the softmax (0 = attend, `-inf` = do not).
        is_causal: query i attends only to keys j <= i (the top-left lower triangle, as in
            `torch.nn.functional.scaled_dot_product_attention`). Given together with `attn_mask`,
            both apply: a bool mask is intersected with the causal one; a float mask is still
            added to the scores and the keys j > i stay masked out. (torch's own function
            refuses the combination; here it is required.)

    Returns:
        `(..., L, d_v)`: for every query, the softmax over the keys (the last axis) of the
        scaled scores, applied to the values. Every query is given at least one key to
        attend to.
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


def multi_head_attention(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, num_heads: int,
                         w_q: torch.Tensor, w_k: torch.Tensor, w_v: torch.Tensor, w_o: torch.Tensor,
                         b_q: torch.Tensor | None = None, b_k: torch.Tensor | None = None,
                         b_v: torch.Tensor | None = None, b_o: torch.Tensor | None = None, *,
                         key_padding_mask: torch.Tensor | None = None, is_causal: bool = False) -> torch.Tensor:
    """MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O ——《Attention Is All You Need》3.2.2 节。

    head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V)：先用整个矩阵做投影，再把最后一维切成
    `num_heads` 个头，每个头 `embed_dim // num_heads` 个特征（第 i 个头取特征
    `i*d_head .. (i+1)*d_head - 1`）；每个头用你自己的 `scaled_dot_product_attention` 计算注意力
    （按 `sqrt(d_head)` 缩放），把各头并排拼回去，再用 `w_o` 投影。这与
    `nn.MultiheadAttention(batch_first=True)` 在 `in_proj_weight = cat([w_q, w_k, w_v])`、
    `out_proj.weight = w_o` 时的计算完全相同。

    参数：
        query：`(batch, L, embed_dim)`；key、value：`(batch, S, embed_dim)`。
        w_q, w_k, w_v, w_o：`(embed_dim, embed_dim)`，`nn.Linear` 的布局（`y = x @ W.T + b`）。
        b_q, b_k, b_v, b_o：`(embed_dim,)` 的偏置，`None` 表示没有偏置。
        key_padding_mask：`None`，或形状为 `(batch, S)` 的布尔张量，含义与 `nn.MultiheadAttention`
            相同：True = 这个 key 是填充，所有 query 都忽略它。
        is_causal：query i 只关注 j <= i 的 key。

    返回：
        `(batch, L, embed_dim)`。

    English:
    MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O — "Attention Is All You Need", section 3.2.2.

    head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V): project with the whole matrices, then split
    the last dimension into `num_heads` heads of `embed_dim // num_heads` features (head i takes
    features `i*d_head .. (i+1)*d_head - 1`), attend per head with your
    `scaled_dot_product_attention` (scaled by `sqrt(d_head)`), put the heads back side by side
    and project with `w_o`. The same computation as `nn.MultiheadAttention(batch_first=True)`
    with `in_proj_weight = cat([w_q, w_k, w_v])` and `out_proj.weight = w_o`.

    Args:
        query: `(batch, L, embed_dim)`; key, value: `(batch, S, embed_dim)`.
        w_q, w_k, w_v, w_o: `(embed_dim, embed_dim)`, `nn.Linear` layout (`y = x @ W.T + b`).
        b_q, b_k, b_v, b_o: `(embed_dim,)` biases, or `None` for none.
        key_padding_mask: `None`, or bool `(batch, S)` with `nn.MultiheadAttention`'s meaning:
            True = that key is padding and is ignored by every query.
        is_causal: query i attends only to keys j <= i.

    Returns:
        `(batch, L, embed_dim)`.
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


# ---------------------------------------------------------------- ex5.2 BERT


def mask_tokens(input_ids: torch.Tensor, special_tokens_mask: torch.Tensor, *, mask_token_id: int, vocab_size: int,
                mlm_probability: float = 0.15,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT 掩码语言模型（MLM）的加噪方式——BERT 论文 3.1 节 "Task #1: Masked LM"。

    `special_tokens_mask` 为 False 的每个位置各自独立地以概率 `mlm_probability` 被选中；特殊 token
    （[CLS]、[SEP]）和填充（`special_tokens_mask` 为 True）永远不被选中。被选中的位置：
      - 以 0.8 的概率换成 `mask_token_id`，
      - 以 0.1 的概率换成一个随机 token id，在整个 `range(vocab_size)` 上均匀抽取（特殊 token 的 id 也包括在内），
      - 以 0.1 的概率保持原来的 token。

    参数：
        input_ids：`(batch, seq)` 的 `torch.int64`。不要修改它：在副本上操作。
        special_tokens_mask：`(batch, seq)` 的布尔张量，True = 这个位置永远不选。
        generator：所有随机数的来源（传给 `torch.rand` / `torch.randint` / `torch.bernoulli`）；
            `None` 表示使用 torch 的全局随机数生成器。

    返回：
        `(inputs, labels)`，都是 `(batch, seq)` 的 `torch.int64`：inputs 是加噪后的副本；labels 在被选中的
        位置保存原来的 token，其余位置都是 `-100`（`cross_entropy` 忽略的值），这样损失只在被选中的位置上计算。

    English:
    BERT's masked-language-model corruption — BERT paper, section 3.1 "Task #1: Masked LM".

    Every position whose `special_tokens_mask` is False is chosen independently with
    probability `mlm_probability`; special tokens ([CLS], [SEP]) and padding (`special_tokens_mask`
    True) are never chosen. A chosen position becomes
      - `mask_token_id` with probability 0.8,
      - a random token id, uniform over the whole `range(vocab_size)` (the special tokens' ids
        included), with probability 0.1,
      - its original token with probability 0.1.

    Args:
        input_ids: `(batch, seq)` `torch.int64`. Not modified: work on a copy.
        special_tokens_mask: `(batch, seq)` bool, True = never choose this position.
        generator: the source of every random draw (pass it to `torch.rand` / `torch.randint` /
            `torch.bernoulli`); `None` uses torch's global generator.

    Returns:
        `(inputs, labels)`, both `(batch, seq)` `torch.int64`: inputs is the corrupted copy; labels holds
        the original token at the chosen positions and `-100` everywhere else (the value
        `cross_entropy` ignores), so the loss is computed on the chosen positions only.
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


# ---------------------------------------------------------------- ex5.3 ViT


def vit_embeddings(pixel_values: torch.Tensor, patch_weight: torch.Tensor, patch_bias: torch.Tensor,
                   cls_token: torch.Tensor, position_embeddings: torch.Tensor) -> torch.Tensor:
    """ViT 的输入序列：z_0 = [x_class; x_p^1 E; ...; x_p^N E] + E_pos ——ViT 论文公式 (1)。

    把图像切成互不重叠的 P x P patch，`P = patch_weight.shape[-1]`；把每个 patch 投影成
    `hidden_size` 个特征（用这组权重、kernel 和 stride 都为 P 的 `Conv2d` 恰好做的就是这件事）；
    patch 按行排列（先从左到右，再从上到下）；把可学习的 class token 放在最前面；给每个位置
    加上位置编码，class token 也要加（位置 0）。

    参数：
        pixel_values：`(batch, channels, height, width)`，height 和 width 都是 P 的倍数。
        patch_weight：`(hidden_size, channels, P, P)`，patch_bias：`(hidden_size,)`——`Conv2d` 布局的
            patch 投影 E。
        cls_token：`(1, 1, hidden_size)`。
        position_embeddings：`(1, 1 + N, hidden_size)`，`N = (height / P) * (width / P)`。

    返回：
        `(batch, 1 + N, hidden_size)`：位置 0 是 class token。

    English:
    ViT's input sequence: z_0 = [x_class; x_p^1 E; ...; x_p^N E] + E_pos — ViT paper, eq. (1).

    Cut the image into non-overlapping P x P patches, `P = patch_weight.shape[-1]`; project
    each patch to `hidden_size` features (a `Conv2d` with kernel and stride P and these weights
    does exactly that); order the patches row by row (left to right, then top to bottom);
    put the learnable class token in front; add the position embeddings to every position,
    the class token's included (position 0).

    Args:
        pixel_values: `(batch, channels, height, width)`, height and width multiples of P.
        patch_weight: `(hidden_size, channels, P, P)`, patch_bias: `(hidden_size,)` — the
            patch projection E in `Conv2d` layout.
        cls_token: `(1, 1, hidden_size)`.
        position_embeddings: `(1, 1 + N, hidden_size)`, `N = (height / P) * (width / P)`.

    Returns:
        `(batch, 1 + N, hidden_size)`: position 0 is the class token.
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


# ---------------------------------------------------------------- ex5.4 CLIP


def clip_loss(image_embeds: torch.Tensor, text_embeds: torch.Tensor, logit_scale: torch.Tensor) -> torch.Tensor:
    """CLIP 的对称对比损失——CLIP 论文图 3（类 numpy 的伪代码）。

    图像 i 和文本 i 是一对；batch 中的其他文本是图像 i 的负样本，其他图像是文本 i 的负样本。
      1. 把每个 embedding 做 L2 归一化（沿最后一维）；
      2. `logits = exp(logit_scale) * image_n @ text_n.T`，形状 `(N, N)`：`logit_scale` 是学到的
         温度倒数的对数（`CLIPModel.logit_scale`），所以要先取指数；
      3. `loss = (cross_entropy(logits, labels) + cross_entropy(logits.T, labels)) / 2`，其中
         `labels = arange(N)`：图像到文本、文本到图像两个方向的损失取平均。

    参数：
        image_embeds, text_embeds：`(N, dim)`，未归一化（即 `get_image_features` /
            `get_text_features` 返回的结果）。
        logit_scale：0 维张量。梯度必须能传到它：让它一直是张量。

    返回：
        0 维张量，对三个输入都可微。

    English:
    CLIP's symmetric contrastive loss — CLIP paper, Figure 3 (numpy-like pseudocode).

    Image i and text i are a pair; the other texts of the batch are image i's negatives and
    the other images text i's.
      1. L2-normalise each embedding (along the last axis);
      2. `logits = exp(logit_scale) * image_n @ text_n.T`, shape `(N, N)`: `logit_scale` is the
         learned log of the inverse temperature (`CLIPModel.logit_scale`), so exponentiate it;
      3. `loss = (cross_entropy(logits, labels) + cross_entropy(logits.T, labels)) / 2` with
         `labels = arange(N)`: the image-to-text and text-to-image losses, averaged.

    Args:
        image_embeds, text_embeds: `(N, dim)`, not normalised (what `get_image_features` /
            `get_text_features` return).
        logit_scale: a 0-d tensor. The gradient must reach it: keep it a tensor.

    Returns:
        A 0-d tensor, differentiable with respect to all three inputs.
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


# ---------------------------------------------------------------- ex5.5 RoPE


def apply_rope(x: torch.Tensor, positions: torch.Tensor, *, theta: float = 10000.0) -> torch.Tensor:
    """对 query 或 key 做旋转位置编码（RoPE）——苏剑林《Transformer升级之路：2》公式 (13)。

    把特征两两配对，按与位置有关的角度旋转，使得位置 m 上旋转后的 query 与位置 n 上旋转后的
    key 的点积只取决于 m - n。

    配对方式（这里规定）：前后两半配对（HALF-SPLIT），与 transformers 中 Llama/Qwen2 的代码一致——
    特征 i 与特征 `i + d/2` 配对（`d = head_dim`，为偶数），而不是像博客公式 (13) 那样与相邻的
    `i + 1` 配对。第 i 对（i 取 `range(d/2)`）的频率为 `omega_i = theta ** (-2i / d)`，在位置 m 上
    旋转的角度为 `m * omega_i`：
        out[i]       = x[i] * cos(m omega_i) - x[i + d/2] * sin(m omega_i)
        out[i + d/2] = x[i + d/2] * cos(m omega_i) + x[i] * sin(m omega_i)

    参数：
        x：`(..., seq, head_dim)`，例如 `(batch, heads, seq, head_dim)`；浮点型。
        positions：`(seq,)` 的 `torch.int64`，x 沿 seq 维每一行的位置（不一定是 0, 1, 2, ...：
            用 KV cache 时新 token 位于位置 t）。
        theta：底数（论文中为 10000；Qwen2 中为 `config.rope_parameters["rope_theta"]`）。

    返回：
        与 x 形状、dtype 相同的张量。无论 x 的 dtype 是什么，角度 `positions * omega_i` 都要用
        `torch.float32` 计算：`torch.bfloat16` 只有 8 个有效二进制位，连 1001 这样的位置都存不准，
        位置上千时角度会差出好几个弧度。

    English:
    Rotary position embedding of queries or keys — Su Jianlin, "Transformer升级之路：2", eq. (13).

    Feature pairs are rotated by position-dependent angles, so that the dot product of a
    rotated query at position m and a rotated key at position n depends only on m - n.

    Pairing (decided here): HALF-SPLIT, as transformers' Llama/Qwen2 code does — feature i
    is paired with feature `i + d/2` (`d = head_dim`, even), not with its neighbour `i + 1` as in
    the blog's eq. (13). Pair i, for i in `range(d/2)`, has the frequency
    `omega_i = theta ** (-2i / d)` and at position m is rotated by the angle `m * omega_i`:
        out[i]       = x[i] * cos(m omega_i) - x[i + d/2] * sin(m omega_i)
        out[i + d/2] = x[i + d/2] * cos(m omega_i) + x[i] * sin(m omega_i)

    Args:
        x: `(..., seq, head_dim)`, e.g. `(batch, heads, seq, head_dim)`; float.
        positions: `(seq,)` `torch.int64`, the position of each row of x along the seq axis (not
            necessarily 0, 1, 2, ...: with a KV cache the new token sits at position t).
        theta: the base (10000 in the paper; `config.rope_parameters["rope_theta"]` in Qwen2).

    Returns:
        A tensor of x's shape and dtype. Whatever x's dtype, compute the angles
        `positions * omega_i` in `torch.float32`: `torch.bfloat16` keeps 8 significant bits and
        cannot even hold a position such as 1001, so at positions in the thousands its angles
        are off by radians.
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


# ---------------------------------------------------------------- ex5.6 LoRA


class LoRALinear(nn.Module):
    """带低秩更新的线性层——LoRA 论文公式 (3) 和 4.1 节。

    h = W_0 x + (alpha / r) * B A x，其中 W_0（及其偏置）是冻结的预训练层，
    A：`(r, in_features)`，B：`(out_features, r)`。

    - `__init__(base, r, alpha)`：把 `base`（一个 `nn.Linear`）保存为 `self.base`，并冻结它的参数
      （`requires_grad` 为 False）；创建 `self.lora_A` 和 `self.lora_B` 两个上述形状的 `nn.Parameter`，
      A 随机初始化（例如与 peft 一样用 `nn.init.kaiming_uniform_(A, a=math.sqrt(5))`），B 初始化为
      零，这样一开始这一层的计算结果与 base 完全相同。保存 `self.scaling = alpha / r`（真正的除法：
      `alpha=6, r=4` 时为 1.5）。只有 `lora_A` 和 `lora_B` 可训练。
    - `forward(x)`：x `(..., in_features)` -> `(..., out_features)`。
    - `merge()`：返回一个新的 `nn.Linear`，权重为 `W_0 + scaling * B @ A`（偏置沿用 base 的），
      不需要额外的矩阵就能算出与 forward 相同的函数。

    English:
    A linear layer with a low-rank update — LoRA paper, eq. (3) and section 4.1.

    h = W_0 x + (alpha / r) * B A x, with W_0 (and its bias) the frozen pretrained layer,
    A: `(r, in_features)`, B: `(out_features, r)`.

    - `__init__(base, r, alpha)`: keep `base` (an `nn.Linear`) as `self.base` and freeze its
      parameters (`requires_grad` False); create `self.lora_A` and `self.lora_B` as `nn.Parameter`
      of those shapes, A random (e.g. `nn.init.kaiming_uniform_(A, a=math.sqrt(5))`, as peft
      does) and B ZERO, so that at the start the layer computes exactly what base does.
      Store `self.scaling = alpha / r` (true division: 1.5 for `alpha=6, r=4`). Only `lora_A`
      and `lora_B` are trainable.
    - `forward(x)`: x `(..., in_features)` -> `(..., out_features)`.
    - `merge()`: return a new `nn.Linear` whose weight is `W_0 + scaling * B @ A` (and base's
      bias), computing the same function as forward without the extra matrices.
    """

    def __init__(self, base: nn.Linear, r: int, alpha: float):
        super().__init__()
        raise NotImplementedError("TODO: your code here / 在这里写你的代码")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("TODO: your code here / 在这里写你的代码")

    def merge(self) -> nn.Linear:
        raise NotImplementedError("TODO: your code here / 在这里写你的代码")


# ---------------------------------------------------------------- ex5.7 DPO


def sequence_logprobs(model: nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                      prompt_lengths: torch.Tensor) -> torch.Tensor:
    """log pi(y | x)：因果语言模型下每一行回答部分各 token 的对数概率之和。

    参数：
        model：因果语言模型（例如 `Qwen2ForCausalLM`）：`model(input_ids=..., attention_mask=...).logits`
            的形状为 `(batch, seq, vocab)`，位置 t 的 logits 预测 token t + 1。
        input_ids：`(batch, seq)` 的 `torch.int64`，每一行是提示 x 后接回答 y，在右侧填充
            （RIGHT-padded）到相同长度。
        attention_mask：`(batch, seq)`，真实 token 处为 1，填充处为 0。
        prompt_lengths：`(batch,)` 的 `torch.int64`，每一行提示的 token 数（>= 1）。

    返回：
        `(batch,)` 的 `torch.float32`：对每一行，在回答 token t 上（`prompt_length <= t` 且
        `attention_mask[t] = 1`）求 `log_softmax(logits[t - 1])[input_ids[t]]` 之和——不含提示 token 和
        填充。log-softmax 用 `torch.float32` 计算。不要放在 `torch.no_grad()` 里：策略模型的对数概率
        要通过这个函数来训练。

    English:
    log pi(y | x): the summed log-probabilities of each row's answer tokens under a causal LM.

    Args:
        model: a causal LM (e.g. `Qwen2ForCausalLM`): `model(input_ids=..., attention_mask=...).logits`
            is `(batch, seq, vocab)`, the logits at position t predicting token t + 1.
        input_ids: `(batch, seq)` `torch.int64`, each row the prompt x followed by the answer y,
            RIGHT-padded to a common length.
        attention_mask: `(batch, seq)`, 1 on real tokens, 0 on padding.
        prompt_lengths: `(batch,)` `torch.int64`, the number of prompt tokens of each row (>= 1).

    Returns:
        `(batch,)` `torch.float32`: for every row, the sum over the answer tokens t (`prompt_length <= t`,
        `attention_mask[t] = 1`) of `log_softmax(logits[t - 1])[input_ids[t]]` — prompt tokens and
        padding excluded. Log-softmax in `torch.float32`. Not under `torch.no_grad()`: the policy's
        log-probs are trained through this function.
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


def dpo_loss(policy_chosen_logps: torch.Tensor, policy_rejected_logps: torch.Tensor,
             reference_chosen_logps: torch.Tensor, reference_rejected_logps: torch.Tensor, *,
             beta: float = 0.1) -> torch.Tensor:
    """DPO 损失——DPO 论文公式 (7)：

        L = -mean log sigmoid( beta * (log pi(y_w|x) - log pi_ref(y_w|x))
                             - beta * (log pi(y_l|x) - log pi_ref(y_l|x)) )

    其中 mean 表示对所有偏好对取平均；y_w 是被选中（更受偏好）的回答，y_l 是被拒绝的回答。

    参数：
        policy_chosen_logps, policy_rejected_logps：`(batch,)`，被训练的策略模型的 log pi(y|x)
            （即 `sequence_logprobs` 的返回值），可微。
        reference_chosen_logps, reference_rejected_logps：`(batch,)`，冻结的参考模型的对数概率。
            它们是损失中的常数：要 detach，即使调用者传进来的张量带着梯度，也不能有梯度流进参考模型。
        beta：KL 约束的强度（论文实验中为 0.1）。

    返回：
        0 维浮点张量，即使差值达到几百 nat 也必须是有限值（用 `F.logsigmoid`，不要用
        `log(sigmoid(...))`，后者会溢出成 inf）。

    English:
    The DPO loss — DPO paper, eq. (7):

        L = -mean over pairs of log sigmoid( beta * (log pi(y_w|x) - log pi_ref(y_w|x))
                                            - beta * (log pi(y_l|x) - log pi_ref(y_l|x)) )

    y_w is the chosen (preferred) answer, y_l the rejected one.

    Args:
        policy_chosen_logps, policy_rejected_logps: `(batch,)` log pi(y|x) of the trained policy
            (what `sequence_logprobs` returns), differentiable.
        reference_chosen_logps, reference_rejected_logps: `(batch,)` of the frozen reference
            model. They are constants of the loss: detach them, so that no gradient flows into
            the reference even when the caller's tensors carry one.
        beta: the strength of the KL constraint (0.1 in the paper's experiments).

    Returns:
        A 0-d float tensor, finite even for margins of hundreds of nats (use
        `F.logsigmoid`, not `log(sigmoid(...))`, which overflows to inf).
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


# ---------------------------------------------------------------- ex5.8 GPT-3 few-shot


def few_shot_prompt(examples: list[tuple[str, str]], question: str) -> str:
    """GPT-3 问答格式的 few-shot 提示——GPT-3 论文第 2 节和图 2.1。

    每个已解答的例子 `(question, answer)` 按给定顺序写成 `"Q: {question}\\nA: {answer}\\n\\n"`；提示以
    新问题和一个待填的答案结尾：`"Q: {question}\\nA:"`（"A:" 后面没有空格：选项自己以空格开头）。
    没有例子时就是 zero-shot 提示。

    English:
    A few-shot prompt in GPT-3's question/answer format — GPT-3 paper, section 2 and Figure 2.1.

    Each solved example `(question, answer)` becomes `"Q: {question}\\nA: {answer}\\n\\n"`, in the
    given order; the prompt ends with the new question and an open answer: `"Q: {question}\\nA:"`
    (no space after "A:": the options begin with one). Zero examples give the zero-shot prompt.
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


def option_logprobs(model: nn.Module, tokenizer, prompt: str, options: list[str], *, normalization: str = "sum",
                    answer_context: str = "A:") -> torch.Tensor:
    """GPT-3 给多项选择题的每个选项打分的方式（GPT-3 论文 2.4 节）。

    log P(option | context)：把上下文和选项分别分词（`tokenizer(text)["input_ids"]`；选项以空格开头，
    例如 `" Paris"`），在「上下文 ids + 选项 ids」上运行模型，只取选项自身各 token 的对数概率——每个
    token 由它前一个位置的 logits 预测（log-softmax 用 `torch.float32`）——再求和。上下文自己的 token
    不计入得分。

    每个选项的得分由 `normalization` 决定：
      - `"sum"`：log P(option | prompt)，即对数概率之和（<= 0）；
      - `"per_token"`：log P(option | prompt) 除以该选项的 token 数——论文对大多数任务使用的按 token
        平均的似然，避免长选项仅仅因为长而吃亏；
      - `"unconditional"`：log P(option | prompt) - log P(option | answer_context)，即
        P(completion | context) / P(completion | answer_context) 的对数——论文在 ARC、OpenBookQA 和 RACE
        上使用的归一化：不管问什么都很常见的选项（高频词）不再占便宜。`answer_context` 只是提示「下面是
        一个答案」的通用字符串（论文用 "Answer: " 或 "A: "；这里默认 `"A:"`，与 `few_shot_prompt` 的
        结尾一致）。
    其他任何 `normalization` 都抛出 `ValueError`。

    返回：
        `(len(options),)` 的 `torch.float32` 张量，每个选项一个得分。

    English:
    How GPT-3 scores the options of a multiple-choice question (GPT-3 paper, section 2.4).

    log P(option | context): tokenise the context and the option separately
    (`tokenizer(text)["input_ids"]`; the options begin with a space, e.g. `" Paris"`), run the
    model on context ids + option ids, and sum the log-probabilities of the option's tokens
    only, each predicted from the logits one position before it (log-softmax in
    `torch.float32`). The context's own tokens are not part of the score.

    The score of each option, by `normalization`:
      - `"sum"`: log P(option | prompt), the summed log-probabilities (<= 0);
      - `"per_token"`: log P(option | prompt) divided by the option's number of tokens — the
        per-token likelihood the paper uses for most tasks, so that a long option is not
        punished for its length alone;
      - `"unconditional"`: log P(option | prompt) - log P(option | answer_context), the log of
        P(completion | context) / P(completion | answer_context) — the paper's normalisation for
        ARC, OpenBookQA and RACE: an option that is likely whatever the question (a common
        word) loses its head start. `answer_context` is a generic string that only says "an
        answer follows" (the paper uses "Answer: " or "A: "; here `"A:"` by default, as
        `few_shot_prompt` ends).
    Any other `normalization` raises `ValueError`.

    Returns:
        `(len(options),)` `torch.float32` tensor, one score per option.
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


def choose_option(model: nn.Module, tokenizer, prompt: str, options: list[str], *, normalization: str = "per_token",
                  answer_context: str = "A:") -> int:
    """得分最高的选项的下标，得分即相同 `normalization` 和 `answer_context` 下 `option_logprobs` 的结果；
    并列时取第一个。返回 Python 的 `int`（不是张量）。

    默认的 `"per_token"` 是 GPT-3 对大多数任务的做法；ARC、OpenBookQA、RACE 这类题目用
    `"unconditional"`。

    English:
    The index of the option with the highest score, the score being `option_logprobs` with the
    same `normalization` and `answer_context`; the first one on a tie. Returns a Python `int`
    (not a tensor).

    The default, `"per_token"`, is what GPT-3 does for most tasks; ARC-, OpenBookQA- and
    RACE-like questions use `"unconditional"`.
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


# ---------------------------------------------------------------- ex5.9 ReAct

# 要求模型遵循的格式（ReAct 论文第 2 节和附录 C 的提示词，精简为两个工具）。react() 原样把它作为 system 消息发送。
# The format the model is asked to follow (ReAct paper, section 2 and Appendix C's prompts,
# reduced to two tools). react() sends it unchanged as the system message.
REACT_INSTRUCTIONS = """Answer the question by interleaving Thought, Action and Observation steps.
Thought: reason about what to do next.
Action: exactly one of
  calculator[<arithmetic expression>] evaluates + - * / ** and parentheses, e.g. calculator[3 * (4 + 5)]
  lookup[<name>] returns the value stored under that name, e.g. lookup[boiling point of water in celsius]
Observation: the result of the action, written for you; never write it yourself.
When you know the answer, write a last line: Final Answer: <the answer>"""
STOP = ["Observation:"]


class ReActError(RuntimeError):
    """循环无法继续：动作格式错误或工具未知，或在 `max_steps` 步内没有得到最终答案。

    English:
    The loop cannot go on: a malformed or unknown action, or no final answer within `max_steps`.
    """


def calculator(expression: str) -> str:
    """安全地计算一个算术表达式，返回 Python 计算结果的 `str()`。

    允许的内容：`int` 和 `float` 字面量，`+ - * / ** // %`，一元 `+` 和 `-`，括号；运算符的行为与
    Python 相同（`"7 / 2"` -> `"3.5"`，`"2 ** 10"` -> `"1024"`）。其他任何东西——名字（包括
    `True`、`False`、`None`）、复数字面量（如 `1j`）、函数调用、属性、字符串、比较——都抛出
    `ValueError`，而且不会被求值：表达式来自语言模型，所以绝不能交给 `eval()`。用
    `ast.parse(expression, mode="eval")` 解析，自己遍历语法树求值。

    English:
    Evaluate an arithmetic expression safely and return `str()` of the Python result.

    Allowed: `int` and `float` literals, `+ - * / ** // %`, unary `+` and `-`, parentheses; the
    operators act as Python's do (`"7 / 2"` -> `"3.5"`, `"2 ** 10"` -> `"1024"`). Anything else —
    names (`True`, `False` and `None` included), complex literals such as `1j`, calls,
    attributes, strings, comparisons — raises `ValueError` without being evaluated: the
    expression comes from a language model, so never pass it to `eval()`. Parse it with
    `ast.parse(expression, mode="eval")` and evaluate the tree yourself.
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


def react(client, question: str, tools: dict[str, Callable[[str], str]], *, model: str = "gpt-4o",
          max_steps: int = 5) -> str:
    """一个 ReAct 循环（ReAct 论文第 2 节）：模型思考并行动，工具给出观察结果。

    `messages = [{"role": "system", "content": REACT_INSTRUCTIONS},`
    `            {"role": "user", "content": "Question: " + question}]`
    然后最多重复 `max_steps` 次：
      1. `reply = client.chat.completions.create(model=model, messages=messages, stop=STOP)`
         `.choices[0].message.content`，并追加 `{"role": "assistant", "content": reply}`；
      2. 先看最终答案：回复中有一行以 `"Final Answer:"` 开头，循环就结束：返回这一行其余的部分（去掉首尾
         空白）——之后不再发送任何请求。即使同一条回复里也有 `Action:` 行，这个动作也不执行；
      3. 否则，回复中以 `"Action:"` 开头的最后一行（一条回复里有两行时只执行最后一行）必须写成
         `"Action: name[argument]"`，且 name 是 `tools` 的键；其他任何情况（没有动作、没有方括号、未知
         工具）都算格式错误：抛出 `ReActError`，不执行任何工具；
      4. 执行 `tools[name](argument)`，并追加 `{"role": "user", "content": "Observation: " + result}`。
    发出 `max_steps` 次请求后仍没有最终答案：抛出 `ReActError`。

    参数：
        client：一个 `openai.OpenAI` 客户端（练习 3 的 `make_client()`）。
        tools：名字 -> 接收一个字符串、返回一个字符串的函数（这里是 `"calculator"` 和 `"lookup"`）。

    返回：
        最终答案的文本。

    English:
    A ReAct loop (ReAct paper, section 2): the model thinks and acts, the tools observe.

    `messages = [{"role": "system", "content": REACT_INSTRUCTIONS},`
    `            {"role": "user", "content": "Question: " + question}]`
    Then, at most `max_steps` times:
      1. `reply = client.chat.completions.create(model=model, messages=messages, stop=STOP)`
         `.choices[0].message.content`, and append `{"role": "assistant", "content": reply}`;
      2. the final answer first: a line of the reply that starts with `"Final Answer:"` ends the
         loop: return the rest of that line, stripped — and send nothing more. An `Action:` line
         in the same reply is not run;
      3. otherwise the reply's last line that starts with `"Action:"` (when a reply has two,
         only the last one runs) must read `"Action: name[argument]"` with a name that is a key
         of `tools`; anything else (no action, no brackets, an unknown tool) is malformed: raise
         `ReActError` without running any tool;
      4. run `tools[name](argument)` and append `{"role": "user", "content": "Observation: " + result}`.
    No final answer after `max_steps` requests: raise `ReActError`.

    Args:
        client: an `openai.OpenAI` client (exercise 3's `make_client()`).
        tools: name -> function of one string returning a string (here `"calculator"` and `"lookup"`).

    Returns:
        The final answer's text.
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")
