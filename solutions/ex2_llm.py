"""练习 2：Qwen2 模型文件夹、`generate()`、手写 beam search、困惑度。

检查在一个很小的模型上运行（`fixtures/ex2/tiny-qwen2`），它的结构、分词器布局和对话模板都与
Qwen2-1.5B-Instruct 相同；把 `DLGRADE_QWEN2_PATH` 设为真实的 Qwen2-1.5B-Instruct 文件夹后，
beam search 的检查也会在真实模型上运行。

本练习按 transformers 5.24 编写（版本固定在 `pyproject.toml` 中）：检查会把你的 beam search 与当前安装的
`generate()` 逐 token 比较，而 `generate()` 的规则在不同版本之间会变化。

运行检查：`pytest checks/test_ex2.py`（加 `--lang zh` 显示中文提示）。

English:
Exercise 2: a Qwen2 model folder, `generate()`, beam search by hand, perplexity.

The checks run on a tiny model with Qwen2-1.5B-Instruct's architecture, tokenizer layout and
chat template (`fixtures/ex2/tiny-qwen2`); point `DLGRADE_QWEN2_PATH` at a real
Qwen2-1.5B-Instruct folder and the beam search check runs on the real model too.

Written for transformers 5.24 (pinned in `pyproject.toml`): the checks compare your beam search
token by token with the installed `generate()`, whose rules change between releases.

Run the checks: `pytest checks/test_ex2.py` (add `--lang zh` for Chinese hints).
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from huggingface_hub import snapshot_download
from transformers import AutoModelForCausalLM, AutoTokenizer, DynamicCache, PreTrainedModel, PreTrainedTokenizerBase

REPO_ID = "Qwen/Qwen2-1.5B-Instruct"
# 一个模型文件夹加载和运行所需的文件：safetensors 权重、JSON 配置和分词器文件。
# 不要 README/LICENSE，也不要有些仓库附带的其他格式的权重。
# What a model folder needs to load and run: weights in safetensors, the JSON configs, and
# the tokenizer files. Not README/LICENSE, and not the other weight formats some repos carry.
NEEDED_FILES = ["*.safetensors", "*.json", "*.jinja", "vocab.json", "merges.txt"]


def download_model(repo_id: str, local_dir: str | Path, *, endpoint: str | None = None) -> Path:
    """把运行 `repo_id` 所需的文件下载到 `local_dir`，并返回这个文件夹。

    使用 `huggingface_hub.snapshot_download`，传入 `local_dir=`（文件放在这个文件夹里，而不只是放在缓存中），
    并把 `endpoint` 原样传下去（`None` 表示真实的 Hub；检查会给一个本地的 Hub）。只下载 safetensors 权重、
    所有 `.json` 文件、对话模板（`.jinja`）和分词器文件（`vocab.json`、`merges.txt`），其他一概不要：
    不要 README 和 LICENSE，也不要其他格式的权重（`*.bin`、`*.h5`、`*.msgpack`、`*.onnx`、`*.gguf`）。

    English:
    Download what is needed to run `repo_id` into `local_dir` and return that folder.

    Use `huggingface_hub.snapshot_download` with `local_dir=` (files land there, not only
    in the cache) and pass `endpoint` through (`None` means the real Hub; the checks give a
    local one). Download the safetensors weights, every `.json` file, the chat template
    (`.jinja`) and tokenizer files (`vocab.json`, `merges.txt`) — and nothing else: no README,
    no LICENSE, no other weight formats (`*.bin`, `*.h5`, `*.msgpack`, `*.onnx`, `*.gguf`).
    """
    # BEGIN SOLUTION
    folder = snapshot_download(repo_id, local_dir=str(local_dir), endpoint=endpoint, allow_patterns=NEEDED_FILES)
    return Path(folder)
    # END SOLUTION


def inspect_model_folder(folder: str | Path) -> dict:
    """查看一个模型文件夹：有哪些文件、各个 JSON 文件的内容，以及值得了解的字段。

    返回一个 dict，包含
      `"files"`：{相对于 `folder` 的路径（str，用 "/" 分隔）: 字节数}，列出 `folder` 下的每一个文件，
                 只排除隐藏文件夹（如 `.cache/`）里的文件；隐藏文件本身（如 `.gitattributes`）要列出；
      `"json"`：{相对路径: 解析后的内容}，每个 `.json` 文件一项；
      `"summary"`：{
         `"architecture"`：config.json 的 `"architectures"[0]`，
         `"hidden_size"`、`"num_hidden_layers"`、`"num_attention_heads"`、`"num_key_value_heads"`、
         `"vocab_size"`、`"max_position_embeddings"`：config.json 中的 int，
         `"rope_theta"`：`float`（文件里存成整数时也要转成 `float`）——旧文件在顶层的 `"rope_theta"`，
                       transformers 5 写的文件在 `"rope_parameters"["rope_theta"]`，
         `"dtype"`：str——`"dtype"`，旧文件里是 `"torch_dtype"`，
         `"bos_token_id"`：int 或 `None`，
         `"eos_token_ids"`：int 的 list——有 generation_config.json 时取其中的 `eos_token_id`
                       （生成时以它为准），否则取 config.json 的；单个 id 变成只有一个元素的 list，
         `"pad_token_id"`：int 或 `None`——先取 generation_config.json 的，没有再取 config.json 的，
         `"generation_defaults"`：{键: generation_config.json[键]}，只包含它设置了的
                       `do_sample`、`temperature`、`top_p`、`top_k`、`repetition_penalty`，
      }

    English:
    Look at a model folder: its files, its JSON files, and the fields worth knowing.

    Returns a dict with
      `"files"`:   {path relative to `folder` (str, "/" separators): size in bytes}, every file
                 below `folder` except those under hidden folders (`.cache/`); a hidden file
                 itself (`.gitattributes`) is listed;
      `"json"`:    {relative path: parsed content} for every `.json` file;
      `"summary"`: {
         `"architecture"`: config.json `"architectures"[0]`,
         `"hidden_size"`, `"num_hidden_layers"`, `"num_attention_heads"`, `"num_key_value_heads"`,
         `"vocab_size"`, `"max_position_embeddings"`: ints from config.json,
         `"rope_theta"`: `float` (a `float` also where the file stores an integer) — top-level
                       `"rope_theta"` in older files, or `"rope_parameters"["rope_theta"]` in files
                       written by transformers 5,
         `"dtype"`: str — `"dtype"`, or `"torch_dtype"` in older files,
         `"bos_token_id"`: int or `None`,
         `"eos_token_ids"`: list of ints — generation_config.json's `eos_token_id` when that
                       file exists (it wins at generation time), else config.json's; a
                       single id becomes a one-element list,
         `"pad_token_id"`: int or `None` — generation_config.json's, else config.json's,
         `"generation_defaults"`: {key: generation_config.json[key]} for the keys
                       `do_sample`, `temperature`, `top_p`, `top_k`, `repetition_penalty` that it sets,
      }
    """
    # BEGIN SOLUTION
    folder = Path(folder)
    files = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and not any(part.startswith(".") for part in rel.parts[:-1]):
            files[rel.as_posix()] = path.stat().st_size
    parsed = {name: json.loads((folder / name).read_text(encoding="utf-8")) for name in files if name.endswith(".json")}
    config = parsed.get("config.json", {})
    generation = parsed.get("generation_config.json", {})

    def ids(value):
        return [] if value is None else list(value) if isinstance(value, list) else [value]

    rope_theta = config.get("rope_theta", (config.get("rope_parameters") or {}).get("rope_theta"))
    summary = {
        "architecture": config["architectures"][0],
        **{key: config[key] for key in ("hidden_size", "num_hidden_layers", "num_attention_heads",
                                        "num_key_value_heads", "vocab_size", "max_position_embeddings")},
        "rope_theta": float(rope_theta),
        "dtype": config.get("dtype", config.get("torch_dtype")),
        "bos_token_id": generation.get("bos_token_id", config.get("bos_token_id")),
        "eos_token_ids": ids(generation.get("eos_token_id", config.get("eos_token_id"))),
        "pad_token_id": generation.get("pad_token_id", config.get("pad_token_id")),
        "generation_defaults": {key: generation[key] for key in
                                ("do_sample", "temperature", "top_p", "top_k", "repetition_penalty")
                                if key in generation},
    }
    return {"files": files, "json": parsed, "summary": summary}
    # END SOLUTION


def load_model(folder: str | Path, *, dtype: torch.dtype | None = None,
               device: str = "cpu") -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """从本地文件夹加载因果语言模型及其分词器。

    `dtype` 为 `None` 时保持 config.json 中保存的 dtype（bfloat16 的文件夹就以 bfloat16 加载）；
    把模型移到 `device`。返回 `(model, tokenizer)`。`from_pretrained` 返回的模型已经处于 eval 模式
    （dropout 关闭），这正是生成所需要的。

    English:
    Load the causal LM and its tokenizer from a local folder.

    `dtype` `None` keeps the dtype stored in config.json (a bfloat16 folder loads in bfloat16);
    move the model to `device`. Return `(model, tokenizer)`. `from_pretrained` already returns
    the model in eval mode (dropout off), which is what generation needs.
    """
    # BEGIN SOLUTION
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype if dtype is not None else "auto")
    tokenizer = AutoTokenizer.from_pretrained(folder)
    return model.to(device), tokenizer
    # END SOLUTION


def describe_model(model: PreTrainedModel) -> dict:
    """`print(model.config)`、`print(model)` 以及遍历所有参数时能看到的内容。

    返回 {`"config"`: `model.config.to_dict()`, `"structure"`: `str(model)`,
          `"parameters"`: [{`"name"`, `"shape"`（int 的 tuple）, `"device"`（str，如 `"cpu"`）,
                          `"dtype"`（str，如 `"torch.bfloat16"`）, `"numel"`（int）}, ...]
                          按 `named_parameters()` 的顺序，每个参数一项,
          `"total_parameters"`: int，每个参数只算一次（共享的 tied 权重算一个）}。

    English:
    What `print(model.config)`, `print(model)` and a walk over the parameters show.

    Returns {`"config"`: `model.config.to_dict()`, `"structure"`: `str(model)`,
             `"parameters"`: [{`"name"`, `"shape"` (tuple of ints), `"device"` (str, e.g. `"cpu"`),
                             `"dtype"` (str, e.g. `"torch.bfloat16"`), `"numel"` (int)}, ...]
                           one entry per parameter in `named_parameters()` order,
             `"total_parameters"`: int, each parameter counted once (tied weights are one)}.
    """
    # BEGIN SOLUTION
    parameters = [{"name": name, "shape": tuple(p.shape), "device": str(p.device), "dtype": str(p.dtype),
                   "numel": p.numel()} for name, p in model.named_parameters()]
    return {"config": model.config.to_dict(), "structure": str(model), "parameters": parameters,
            "total_parameters": sum(p["numel"] for p in parameters)}
    # END SOLUTION


def generate_reply(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, user_message: str, *,
                   max_new_tokens: int = 32, **generation_kwargs) -> str:
    """用 `model.generate()` 完成一轮对话。

    用对话模板构造 prompt（一条 user 消息，`add_generation_prompt=True`），调用 `model.generate()`，
    传入 `input_ids` 和 `attention_mask`、`max_new_tokens` 以及 `generation_kwargs` 中的每一个关键字参数
    （`do_sample`、`num_beams`、`temperature` 等），只返回新生成的文本：把 prompt 之后生成的 token
    用 `skip_special_tokens=True` 解码。

    English:
    One chat turn with `model.generate()`.

    Build the prompt with the chat template (one user message, `add_generation_prompt=True`),
    call `model.generate()` with `input_ids` and `attention_mask`, `max_new_tokens` and every keyword
    in `generation_kwargs` (`do_sample`, `num_beams`, `temperature`, ...), and return only the new
    text: decode the generated tokens after the prompt with `skip_special_tokens=True`.
    """
    # BEGIN SOLUTION
    inputs = tokenizer.apply_chat_template([{"role": "user", "content": user_message}], add_generation_prompt=True,
                                           return_tensors="pt", return_dict=True).to(model.device)
    output = model.generate(**inputs, max_new_tokens=max_new_tokens, **generation_kwargs)
    return tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
    # END SOLUTION


def beam_search(model: PreTrainedModel, input_ids: torch.LongTensor, attention_mask: torch.Tensor | None = None, *,
                num_beams: int = 4, max_new_tokens: int = 20, eos_token_id: int | list[int] | None = None,
                pad_token_id: int | None = None, length_penalty: float = 1.0,
                early_stopping: bool | str = False) -> tuple[torch.LongTensor, torch.Tensor]:
    """不用 `generate()` 实现 beam search：`model.model(...)` + `model.lm_head`，并使用 KV cache。

    参数：
        input_ids：`(batch, prompt_len)` 的 prompt token id；各行长度不同时在左侧填充。
        attention_mask：`(batch, prompt_len)`，填充处为 0；`None` 表示没有填充。
        num_beams、max_new_tokens、length_penalty、early_stopping：含义与 `generate()` 中相同。
        eos_token_id：结束一个候选（hypothesis）的一个或多个 id；为 `None` 时候选只在达到最大长度时结束。
        pad_token_id：候选结束之后用它填充输出；没有给出（或为 0）时改用第一个 EOS id，与 `generate()` 一致。

    返回：
        `(sequences, scores)`：`sequences` 的形状为 `(batch, prompt_len + generated)`、类型为 `torch.int64`，
        是每行最好的候选（包含 prompt，按最长的一行填充）；`scores` 是形状为 `(batch,)`、类型为
        `torch.float32` 的张量，每个值是该候选各 token 的 log 概率之和除以 `generated_length ** length_penalty`
        （`generated_length` 包含 EOS token）。两者分别等于
        `generate(..., do_sample=False, output_scores=True, return_dict_in_generate=True)` 返回的
        `sequences` 和 `sequences_scores`。

    使用 cache：先对 prompt 做一次 prefill（`model.model(input_ids=..., attention_mask=..., position_ids=...,
    cache=..., use_cache=True)`，其中 `cache=DynamicCache(config=model.config)`；课程里说的
    `past_key_values=` 是 `cache=` 的旧名字；调用 `model(...)` 再读取 `.logits` 也可以），之后每一步
    每个 beam 只输入一个新 token，选出新的 beam 后用 `cache.reorder_cache(idx)` 对 cache 重新排序。
    每次调用都要传入 attention mask：prompt 的 mask（填充处为 0），每生成一个 token 就在后面补一个 1。
    batch 中的各行可以一起搜索（每次调用 `batch * num_beams` 条序列），也可以逐行搜索；prompt 可以每行
    编码一次（然后按 beam 复制 cache），也可以每个 beam 编码一次。position id 来自 attention mask 的
    累加（`cumsum - 1`：左侧填充的行在填充之后从 0 开始），检查会查看模型实际收到的 mask 和位置。
    log 概率用 float32 计算；scores 与 `generate()` 的结果按相对误差比较，容限只容纳 float32 的
    舍入误差，容纳不了不同的公式。

    transformers 5.24 中 `generate()` 遵循的规则（它们决定了平局和长度）：
    - prompt 按 beam 复制；第一步只有 beam 0 是活的（其余为 -1e9）；
    - 每一步在所有 beam × 词表的候选中按累计 log 概率保留前
      `K = max(2, 1 + number of EOS ids) * num_beams` 个；
    - 候选遇到 EOS 或达到最大长度即为“命中”；只有在这 K 个中排进前 `num_beams` 名的命中才能结束；
      结束候选的分数为 `sum / generated_length ** length_penalty`；
    - 继续运行的 beam：没有结束的候选中最好的 `num_beams` 个；
    - 已结束集合只保留最好的 `num_beams` 个；`early_stopping=True` 时，集合已满的行不再接收新的候选；
    - 当没有任何一行还能变好时搜索停止（提前停止的启发式：运行中最好的累计分数除以（当前生成长度；
      若 `early_stopping="never"` 且 `length_penalty > 0`，则用最大长度）的 `** length_penalty` 次方，
      不高于最差的已结束分数），或者每一行都已满且 `early_stopping` 为 `True`，或者每个候选都达到了最大长度。

    English:
    Beam search without `generate()`: `model.model(...)` + `model.lm_head`, with the KV cache.

    Args:
        input_ids: `(batch, prompt_len)` prompt token ids, left-padded when rows differ in length.
        attention_mask: `(batch, prompt_len)`, 0 on padding; `None` means no padding.
        num_beams, max_new_tokens, length_penalty, early_stopping: as in `generate()`.
        eos_token_id: id or ids that end a hypothesis; `None`: hypotheses end only at max length.
        pad_token_id: fills the output after a finished hypothesis; a missing (or 0) pad id
            falls back to the first EOS id, as `generate()` does.

    Returns:
        `(sequences, scores)`: `sequences` `(batch, prompt_len + generated)` `torch.int64`, the best
        hypothesis per row (prompt included, padded to the longest); `scores` a `(batch,)`
        `torch.float32` tensor, each the sum of its token log-probs divided by
        `generated_length ** length_penalty` (`generated_length` counts the EOS token).
        Both equal the `sequences` and `sequences_scores` of
        `generate(..., do_sample=False, output_scores=True, return_dict_in_generate=True)`.

    Use the cache: prefill the prompt once (`model.model(input_ids=..., attention_mask=..., position_ids=...,
    cache=..., use_cache=True)` with `cache=DynamicCache(config=model.config)`; the curriculum's
    `past_key_values=` is the older name of `cache=`; calling `model(...)` and reading `.logits` is
    fine too), then feed one token per beam per step, and after choosing beams reorder the cache
    with `cache.reorder_cache(idx)`. Pass the attention mask at every call: the prompt's mask (0 on
    padding) extended by a 1 for each generated token. The rows of the batch may be searched together
    (`batch * num_beams` sequences per call) or one row at a time; the prompt may be encoded once per
    row (then repeat the cache per beam) or once per beam. Position ids come from the cumulative
    attention mask (`cumsum - 1`: a left-padded row starts at 0 after its padding) and the checks
    look at the mask and the positions the model receives. Log-probs in float32; scores are compared
    with `generate()`'s with a relative tolerance that covers float32 rounding, not a different formula.

    The rules `generate()` follows in transformers 5.24 (they decide ties and lengths):
    - the prompt is repeated per beam; at the first step only beam 0 is live (others -1e9);
    - each step keeps the top `K = max(2, 1 + number of EOS ids) * num_beams` candidates over
      all beams x vocabulary by summed log-prob;
    - a candidate hits EOS or max length; only hits ranked in the first `num_beams` of those K
      may finish; finished scores are `sum / generated_length ** length_penalty`;
    - running beams: the best `num_beams` candidates that did not finish;
    - the finished set keeps the best `num_beams`; with `early_stopping=True` a row whose set
      is full accepts no more;
    - the search stops when no row can improve (early-stopping heuristic: best running sum
      divided by (current generated length, or max length if `early_stopping="never"` and
      `length_penalty > 0`) `** length_penalty` is not above the worst finished score), when
      every row is full and `early_stopping` is `True`, or when every candidate hit max length.
    """
    # BEGIN SOLUTION
    batch, prompt_len = input_ids.shape
    device = input_ids.device
    if attention_mask is None:
        attention_mask = torch.ones_like(input_ids)
    eos = [] if eos_token_id is None else [eos_token_id] if isinstance(eos_token_id, int) else list(eos_token_id)
    eos_tensor = torch.tensor(eos, dtype=torch.long, device=device)
    fill = pad_token_id or (eos[0] if eos else -1)
    k = num_beams
    keep = max(2, 1 + len(eos)) * k
    max_length = prompt_len + max_new_tokens
    neg = -1.0e9

    mask = attention_mask.repeat_interleave(k, dim=0)
    positions = mask.long().cumsum(-1) - 1
    positions.masked_fill_(mask == 0, 1)
    cache = DynamicCache(config=model.config)
    with torch.no_grad():
        hidden = model.model(input_ids=input_ids.repeat_interleave(k, dim=0), attention_mask=mask,
                             position_ids=positions, cache=cache, use_cache=True).last_hidden_state
        logits = model.lm_head(hidden[:, -1, :]).float()
    next_position = positions[:, -1:] + 1

    running = torch.full((batch, k, max_length), fill, dtype=torch.long, device=device)
    running[:, :, :prompt_len] = input_ids[:, None, :]
    running_scores = torch.zeros(batch, k, device=device)
    running_scores[:, 1:] = neg
    finished = running.clone()
    finished_scores = torch.full((batch, k), neg, device=device)
    finished_len = torch.zeros(batch, k, dtype=torch.long, device=device)
    is_finished = torch.zeros(batch, k, dtype=torch.bool, device=device)
    can_improve = torch.ones(batch, 1, dtype=torch.bool, device=device)
    in_top_k = torch.arange(keep, device=device) < k
    rows = torch.arange(batch, device=device)[:, None]
    cur_len = prompt_len

    while True:
        log_probs = torch.log_softmax(logits, dim=-1)
        vocab = log_probs.shape[-1]
        totals = (log_probs.view(batch, k, vocab) + running_scores[:, :, None]).view(batch, k * vocab)
        top_scores, top_index = torch.topk(totals, keep)
        source_beam, token = top_index // vocab, top_index % vocab
        candidates = running[rows, source_beam]
        candidates[:, :, cur_len] = token
        hits = torch.isin(token, eos_tensor) | (cur_len + 1 >= max_length)

        # the next running beams: the best candidates that did not finish
        open_scores = top_scores + hits.float() * neg
        chosen = torch.topk(open_scores, k).indices
        running, running_scores = candidates[rows, chosen], open_scores[rows, chosen]
        beam_idx = (source_beam[rows, chosen] + rows * k).view(-1)

        # the finished set: merge the hits ranked in the top num_beams, keep the best num_beams
        just_finished = hits & in_top_k[None, :]
        generated = cur_len + 1 - prompt_len
        new_scores = top_scores / generated ** length_penalty
        full = is_finished.all(-1, keepdim=True) & (early_stopping is True)
        new_scores = new_scores + (full | ~can_improve | ~just_finished).float() * neg
        merged_scores = torch.cat([finished_scores, new_scores], dim=1)
        best = torch.topk(merged_scores, k).indices
        finished = torch.cat([finished, candidates], dim=1)[rows, best]
        finished_scores = merged_scores[rows, best]
        finished_len = torch.cat([finished_len, torch.full_like(token, generated)], dim=1)[rows, best]
        is_finished = torch.cat([is_finished, just_finished], dim=1)[rows, best]

        cur_len += 1
        hypothetical = max_length - prompt_len if early_stopping == "never" and length_penalty > 0 else generated
        best_running = running_scores[:, :1] / hypothetical ** length_penalty
        worst_finished = torch.where(is_finished, finished_scores.min(-1, keepdim=True).values, neg)
        can_improve = can_improve & (best_running > worst_finished).any(-1, keepdim=True)
        all_full = bool(is_finished.all()) and early_stopping is True
        if not (bool(can_improve.any()) and not all_full and not bool(hits.all())):
            break

        cache.reorder_cache(beam_idx)
        mask = torch.cat([mask, mask.new_ones(batch * k, 1)], dim=1)
        with torch.no_grad():
            hidden = model.model(input_ids=running[:, :, cur_len - 1].reshape(-1, 1), attention_mask=mask,
                                 position_ids=next_position, cache=cache, use_cache=True).last_hidden_state
            logits = model.lm_head(hidden[:, -1, :]).float()
        next_position = next_position + 1

    length = prompt_len + int(finished_len[:, 0].max())
    return finished[:, 0, :length], finished_scores[:, 0]
    # END SOLUTION


def perplexity(model: PreTrainedModel, prompt_ids: torch.LongTensor, continuation_ids: torch.LongTensor) -> float:
    """给定 prompt 时一段续写的困惑度：只对续写部分的 token 求平均 NLL，再取 `exp`。

    `prompt_ids` 的形状为 `(prompt_len,)`，`continuation_ids` 的形状为 `(n,)`，都是一维 `torch.int64`，`n >= 1`。
    在 prompt + continuation 上只运行一次模型；续写中第 i 个 token 的 NLL 等于它前一个位置的 logits
    做 log softmax 后在该 token 上的值取负。log 概率用 float32 计算。返回 Python `float`。

    English:
    Perplexity of a continuation given its prompt: `exp` of the mean NLL over the continuation tokens only.

    `prompt_ids`: `(prompt_len,)` and `continuation_ids`: `(n,)`, 1-D `torch.int64`, `n >= 1`. Run the
    model on prompt + continuation once; the NLL of continuation token i is -log softmax of the
    logits at the position before it. Compute log-probs in float32. Returns a Python `float`.
    """
    # BEGIN SOLUTION
    ids = torch.cat([prompt_ids, continuation_ids])[None, :].to(model.device)
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0].float()
    log_probs = torch.log_softmax(logits[:-1], dim=-1)
    targets = ids[0, 1:]
    token_log_probs = log_probs[torch.arange(len(targets)), targets][-len(continuation_ids):]
    return float(torch.exp(-token_log_probs.mean()))
    # END SOLUTION


def compare_greedy_and_beam(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, prompt: str, *,
                            num_beams: int = 4, max_new_tokens: int = 24) -> dict:
    """对一个纯文本 prompt 分别做贪心搜索和 beam search 续写，并计算各自的困惑度。

    两者都用 `model.generate()` 生成（`do_sample=False`、`repetition_penalty=1.0`、相同的 `max_new_tokens`；
    贪心用 `num_beams=1`）。模型自带的 generation_config.json 会采样，并把 `repetition_penalty` 设为 1.05，
    所以这些设置要显式传入。返回 {`"greedy_text"`, `"beam_text"`（只解码续写部分）, `"greedy_ppl"`,
    `"beam_ppl"`（用 `perplexity()` 计算每段续写的 token id 在给定 prompt 下的困惑度）}。

    English:
    Greedy and beam-search continuations of a plain-text prompt, with their perplexities.

    Generate both with `model.generate()` (`do_sample=False`, `repetition_penalty=1.0`, the
    same `max_new_tokens`; `num_beams=1` for greedy). The model's own generation_config.json samples
    and sets `repetition_penalty` to 1.05, so pass these settings explicitly. Return {`"greedy_text"`,
    `"beam_text"` (decoded continuations only), `"greedy_ppl"`, `"beam_ppl"` (`perplexity()` of each
    continuation's token ids given the prompt)}.
    """
    # BEGIN SOLUTION
    prompt_ids = tokenizer(prompt, return_tensors="pt")["input_ids"].to(model.device)
    result = {}
    for name, beams in (("greedy", 1), ("beam", num_beams)):
        output = model.generate(input_ids=prompt_ids, attention_mask=torch.ones_like(prompt_ids), do_sample=False,
                                num_beams=beams, max_new_tokens=max_new_tokens, repetition_penalty=1.0)
        continuation = output[0, prompt_ids.shape[1]:]
        result[f"{name}_text"] = tokenizer.decode(continuation, skip_special_tokens=True)
        result[f"{name}_ppl"] = perplexity(model, prompt_ids[0], continuation)
    return result
    # END SOLUTION
