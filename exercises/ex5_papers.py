"""Exercise 5: the reading list in code — one small implementation per core paper.

Each function below is what a paper of the reading list computes, written from its
equations. The checks compare it with what a well-kept library computes on the same
numbers: torch's scaled_dot_product_attention and nn.MultiheadAttention, transformers'
DataCollatorForLanguageModeling, ViTEmbeddings, CLIPModel and Qwen2's rotary embedding,
and peft's LoRA layer.

Conventions used throughout (the docstrings repeat what matters):
- tensors are float32 unless a docstring says otherwise; shapes are written (batch, seq, dim);
- a boolean attention mask is True where a query MAY attend to a key (torch's
  scaled_dot_product_attention convention); nn.MultiheadAttention's key_padding_mask is
  the opposite (True = padding, ignored) and keeps that meaning where it appears here;
- weights follow nn.Linear: y = x @ W.T + b, W of shape (out_features, in_features).

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
    """Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V — "Attention Is All You Need", eq. (1).

    Args:
        query: (..., L, d_k); key: (..., S, d_k); value: (..., S, d_v), the same leading
            dimensions (e.g. batch, heads) for all three.
        attn_mask: None, or broadcastable to (..., L, S), either
            - bool: True = the query may attend to that key, False = it may not;
            - float: added to the scores before the softmax (0 = attend, -inf = do not).
        is_causal: query i attends only to keys j <= i (the top-left lower triangle, as in
            torch.nn.functional.scaled_dot_product_attention); combined with attn_mask
            when both are given.

    Returns:
        (..., L, d_v): for every query, the softmax over the keys (the last axis) of the
        scaled scores, applied to the values. Every query is given at least one key to
        attend to.
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


def multi_head_attention(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, num_heads: int,
                         w_q: torch.Tensor, w_k: torch.Tensor, w_v: torch.Tensor, w_o: torch.Tensor,
                         b_q: torch.Tensor | None = None, b_k: torch.Tensor | None = None,
                         b_v: torch.Tensor | None = None, b_o: torch.Tensor | None = None, *,
                         key_padding_mask: torch.Tensor | None = None, is_causal: bool = False) -> torch.Tensor:
    """MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O — "Attention Is All You Need", section 3.2.2.

    head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V): project with the whole matrices, then split
    the last dimension into num_heads heads of embed_dim // num_heads features (head i takes
    features i*d_head .. (i+1)*d_head - 1), attend per head with your
    scaled_dot_product_attention (scaled by sqrt(d_head)), put the heads back side by side
    and project with w_o. The same computation as nn.MultiheadAttention(batch_first=True)
    with in_proj_weight = cat([w_q, w_k, w_v]) and out_proj.weight = w_o.

    Args:
        query: (batch, L, embed_dim); key, value: (batch, S, embed_dim).
        w_q, w_k, w_v, w_o: (embed_dim, embed_dim), nn.Linear layout (y = x @ W.T + b).
        b_q, b_k, b_v, b_o: (embed_dim,) biases, or None for none.
        key_padding_mask: None, or bool (batch, S) with nn.MultiheadAttention's meaning:
            True = that key is padding and is ignored by every query.
        is_causal: query i attends only to keys j <= i.

    Returns:
        (batch, L, embed_dim).
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


# ---------------------------------------------------------------- ex5.2 BERT


def mask_tokens(input_ids: torch.Tensor, special_tokens_mask: torch.Tensor, *, mask_token_id: int, vocab_size: int,
                mlm_probability: float = 0.15,
                generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's masked-language-model corruption — BERT paper, section 3.1 "Task #1: Masked LM".

    Every position whose special_tokens_mask is False is chosen independently with
    probability mlm_probability; special tokens ([CLS], [SEP]) and padding (special_tokens_mask
    True) are never chosen. A chosen position becomes
      - mask_token_id with probability 0.8,
      - a random token id, uniform over range(vocab_size), with probability 0.1,
      - its original token with probability 0.1.

    Args:
        input_ids: (batch, seq) int64. Not modified: work on a copy.
        special_tokens_mask: (batch, seq) bool, True = never choose this position.
        generator: the source of every random draw (pass it to torch.rand / torch.randint /
            torch.bernoulli); None uses torch's global generator.

    Returns:
        (inputs, labels), both (batch, seq) int64: inputs is the corrupted copy; labels holds
        the original token at the chosen positions and -100 everywhere else (the value
        cross_entropy ignores), so the loss is computed on the chosen positions only.
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


# ---------------------------------------------------------------- ex5.3 ViT


def vit_embeddings(pixel_values: torch.Tensor, patch_weight: torch.Tensor, patch_bias: torch.Tensor,
                   cls_token: torch.Tensor, position_embeddings: torch.Tensor) -> torch.Tensor:
    """ViT's input sequence: z_0 = [x_class; x_p^1 E; ...; x_p^N E] + E_pos — ViT paper, eq. (1).

    Cut the image into non-overlapping P x P patches, P = patch_weight.shape[-1]; project
    each patch to hidden_size features (a Conv2d with kernel and stride P and these weights
    does exactly that); order the patches row by row (left to right, then top to bottom);
    put the learnable class token in front; add the position embeddings to every position,
    the class token's included (position 0).

    Args:
        pixel_values: (batch, channels, height, width), height and width multiples of P.
        patch_weight: (hidden_size, channels, P, P), patch_bias: (hidden_size,) — the
            patch projection E in Conv2d layout.
        cls_token: (1, 1, hidden_size).
        position_embeddings: (1, 1 + N, hidden_size), N = (height / P) * (width / P).

    Returns:
        (batch, 1 + N, hidden_size): position 0 is the class token.
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


# ---------------------------------------------------------------- ex5.4 CLIP


def clip_loss(image_embeds: torch.Tensor, text_embeds: torch.Tensor, logit_scale: torch.Tensor) -> torch.Tensor:
    """CLIP's symmetric contrastive loss — CLIP paper, Figure 3 (numpy-like pseudocode).

    Image i and text i are a pair; the other texts of the batch are image i's negatives and
    the other images text i's.
      1. L2-normalise each embedding (along the last axis);
      2. logits = exp(logit_scale) * image_n @ text_n.T, shape (N, N): logit_scale is the
         learned log of the inverse temperature (CLIPModel.logit_scale), so exponentiate it;
      3. loss = (cross_entropy(logits, labels) + cross_entropy(logits.T, labels)) / 2 with
         labels = arange(N): the image-to-text and text-to-image losses, averaged.

    Args:
        image_embeds, text_embeds: (N, dim), not normalised (what get_image_features /
            get_text_features return).
        logit_scale: a 0-d tensor. The gradient must reach it: keep it a tensor.

    Returns:
        A 0-d tensor, differentiable with respect to all three inputs.
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


# ---------------------------------------------------------------- ex5.5 RoPE


def apply_rope(x: torch.Tensor, positions: torch.Tensor, *, theta: float = 10000.0) -> torch.Tensor:
    """Rotary position embedding of queries or keys — Su Jianlin, "Transformer升级之路：2", eq. (13).

    Feature pairs are rotated by position-dependent angles, so that the dot product of a
    rotated query at position m and a rotated key at position n depends only on m - n.

    Pairing (decided here): HALF-SPLIT, as transformers' Llama/Qwen2 code does — feature i
    is paired with feature i + d/2 (d = head_dim, even), not with its neighbour i + 1 as in
    the blog's eq. (13). Pair i, for i in range(d/2), has the frequency
    omega_i = theta ** (-2i / d) and at position m is rotated by the angle m * omega_i:
        out[i]       = x[i] * cos(m omega_i) - x[i + d/2] * sin(m omega_i)
        out[i + d/2] = x[i + d/2] * cos(m omega_i) + x[i] * sin(m omega_i)

    Args:
        x: (..., seq, head_dim), e.g. (batch, heads, seq, head_dim); float.
        positions: (seq,) int64, the position of each row of x along the seq axis (not
            necessarily 0, 1, 2, ...: with a KV cache the new token sits at position t).
        theta: the base (10000 in the paper; config.rope_parameters["rope_theta"] in Qwen2).

    Returns:
        A tensor of x's shape and dtype; the angles are computed in float32.
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


# ---------------------------------------------------------------- ex5.6 LoRA


class LoRALinear(nn.Module):
    """A linear layer with a low-rank update — LoRA paper, eq. (3) and section 4.1.

    h = W_0 x + (alpha / r) * B A x, with W_0 (and its bias) the frozen pretrained layer,
    A: (r, in_features), B: (out_features, r).

    - __init__(base, r, alpha): keep `base` (an nn.Linear) as self.base and freeze its
      parameters (requires_grad False); create self.lora_A and self.lora_B as nn.Parameter
      of those shapes, A random (e.g. nn.init.kaiming_uniform_(A, a=math.sqrt(5)), as peft
      does) and B ZERO, so that at the start the layer computes exactly what base does.
      Store self.scaling = alpha / r. Only lora_A and lora_B are trainable.
    - forward(x): x (..., in_features) -> (..., out_features).
    - merge(): return a new nn.Linear whose weight is W_0 + scaling * B @ A (and base's
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
    """log pi(y | x): the summed log-probabilities of each row's answer tokens under a causal LM.

    Args:
        model: a causal LM (e.g. Qwen2ForCausalLM): model(input_ids=..., attention_mask=...).logits
            is (batch, seq, vocab), the logits at position t predicting token t + 1.
        input_ids: (batch, seq) int64, each row the prompt x followed by the answer y,
            RIGHT-padded to a common length.
        attention_mask: (batch, seq), 1 on real tokens, 0 on padding.
        prompt_lengths: (batch,) int64, the number of prompt tokens of each row (>= 1).

    Returns:
        (batch,) float32: for every row, the sum over the answer tokens t (prompt_length <= t,
        attention_mask[t] = 1) of log_softmax(logits[t - 1])[input_ids[t]] — prompt tokens and
        padding excluded. Log-softmax in float32. Not under torch.no_grad(): the policy's
        log-probs are trained through this function.
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


def dpo_loss(policy_chosen_logps: torch.Tensor, policy_rejected_logps: torch.Tensor,
             reference_chosen_logps: torch.Tensor, reference_rejected_logps: torch.Tensor, *,
             beta: float = 0.1) -> torch.Tensor:
    """The DPO loss — DPO paper, eq. (7):

        L = -mean over pairs of log sigmoid( beta * (log pi(y_w|x) - log pi_ref(y_w|x))
                                            - beta * (log pi(y_l|x) - log pi_ref(y_l|x)) )

    y_w is the chosen (preferred) answer, y_l the rejected one.

    Args:
        policy_chosen_logps, policy_rejected_logps: (batch,) log pi(y|x) of the trained policy
            (what sequence_logprobs returns), differentiable.
        reference_chosen_logps, reference_rejected_logps: (batch,) of the frozen reference
            model. They are constants of the loss: detach them, so that no gradient flows into
            the reference even when the caller's tensors carry one.
        beta: the strength of the KL constraint (0.1 in the paper's experiments).

    Returns:
        A 0-d float tensor, finite even for margins of hundreds of nats (use
        F.logsigmoid, not log(sigmoid(...)), which overflows to inf).
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


# ---------------------------------------------------------------- ex5.8 GPT-3 few-shot


def few_shot_prompt(examples: list[tuple[str, str]], question: str) -> str:
    """A few-shot prompt in GPT-3's question/answer format — GPT-3 paper, section 2 and Figure 2.1.

    Each solved example (question, answer) becomes "Q: {question}\\nA: {answer}\\n\\n", in the
    given order; the prompt ends with the new question and an open answer: "Q: {question}\\nA:"
    (no space after "A:": the options begin with one). Zero examples give the zero-shot prompt.
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


def option_logprobs(model: nn.Module, tokenizer, prompt: str, options: list[str]) -> torch.Tensor:
    """log P(option | prompt) for every option: how GPT-3 scores multiple-choice answers (section 2.4).

    Tokenise the prompt and each option separately (tokenizer(text)["input_ids"]; the options
    begin with a space, e.g. " Paris"), run the model on prompt ids + option ids, and sum the
    log-probabilities of the option's tokens only, each predicted from the logits one position
    before it. The prompt's own tokens are not part of the score. Log-softmax in float32.

    Returns:
        (len(options),) float32 tensor of summed log-probabilities (all <= 0).
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


def choose_option(model: nn.Module, tokenizer, prompt: str, options: list[str]) -> int:
    """The index of the option with the highest option_logprobs (the first one on a tie)."""
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


# ---------------------------------------------------------------- ex5.9 ReAct

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
    """The loop cannot go on: a malformed or unknown action, or no final answer within max_steps."""


def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression safely and return str() of the Python result.

    Allowed: int and float literals, + - * / ** // %, unary + and -, parentheses; the
    operators act as Python's do ("7 / 2" -> "3.5", "2 ** 10" -> "1024"). Anything else —
    names, calls, attributes, strings, comparisons — raises ValueError without being
    evaluated: the expression comes from a language model, so never pass it to eval().
    Parse it with ast.parse(expression, mode="eval") and evaluate the tree yourself.
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


def react(client, question: str, tools: dict[str, Callable[[str], str]], *, model: str = "gpt-4o",
          max_steps: int = 5) -> str:
    """A ReAct loop (ReAct paper, section 2): the model thinks and acts, the tools observe.

    messages = [{"role": "system", "content": REACT_INSTRUCTIONS},
                {"role": "user", "content": "Question: " + question}]
    Then, at most max_steps times:
      1. reply = client.chat.completions.create(model=model, messages=messages, stop=STOP)
         .choices[0].message.content, and append {"role": "assistant", "content": reply};
      2. a line of the reply that starts with "Final Answer:" ends the loop: return the rest
         of that line, stripped — and send nothing more;
      3. otherwise the reply's last line that starts with "Action:" must read
         "Action: name[argument]" with a name that is a key of `tools`; anything else (no
         action, no brackets, an unknown tool) is malformed: raise ReActError without
         running any tool;
      4. run tools[name](argument) and append {"role": "user", "content": "Observation: " + result}.
    No final answer after max_steps requests: raise ReActError.

    Args:
        client: an openai.OpenAI client (exercise 3's make_client()).
        tools: name -> function of one string returning a string (here "calculator" and "lookup").

    Returns:
        The final answer's text.
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")
