"""Checks for exercise 1.5: DataParallel, DDP and FSDP (ZeRO-3) scripts in real process groups.

Each script runs with world size 2 — NCCL when the machine has a GPU for each rank, gloo on the
CPU otherwise (one GPU and two ranks included), chosen once for the whole group by the
script — through dlgrade.checkkit.distributed (torchrun --standalone or the script's own spawn, a hard
deadline, every process killed at the end). The oracle is one process training the same
grader-owned CNN (dlgrade.checkkit.rank_probes) on the same global batches with the same seed; the CNN
also records, on every rank, the rows each forward saw and how its parameters were sharded.
"""
from __future__ import annotations

import functools
import json

import pytest
import torch
from torch.nn import functional as F

from dlgrade.checkkit import rank_probes as probes
from dlgrade.checkkit.distributed import run_distributed
from dlgrade.checkkit.feedback import expect, fail, prose
from dlgrade.checkkit.targets import TargetError
from dlgrade.core.i18n import tr
from dlgrade.core.project import Project

FIXTURES_DIR = Project.locate().fixtures

STEPS, GLOBAL_BATCH, LR, SEED, WORLD = 20, 32, 0.05, 0, 2
DEADLINE_S = 120
# Measured here (CPU, gloo, 20 steps): DDP and FSDP2 end within 6e-8 of the single-process
# weights; a summed loss or both ranks on the same rows are off by 1e-2 or more.
CPU_TOLERANCE = {"atol": 1e-6, "rtol": 1e-5}
# Not measured here (no GPU on the build machine): cuDNN convolutions differ from the CPU's.
GPU_TOLERANCE = {"atol": 1e-4, "rtol": 1e-3}

pytestmark = [pytest.mark.time_limit(DEADLINE_S + 30), pytest.mark.distributed]


@pytest.fixture(scope="session")
def global_batches(tmp_path_factory):
    """The first STEPS * GLOBAL_BATCH fixture training digits, normalised, as the scripts' --data."""
    import gzip

    import numpy as np

    raw = FIXTURES_DIR / "ex1" / "MNIST" / "raw"
    n = STEPS * GLOBAL_BATCH
    images = np.frombuffer(gzip.open(raw / "train-images-idx3-ubyte.gz").read(), np.uint8, offset=16)
    labels = np.frombuffer(gzip.open(raw / "train-labels-idx1-ubyte.gz").read(), np.uint8, offset=8)
    x = torch.tensor(images.reshape(-1, 1, 28, 28)[:n].astype(np.float32) / 255)
    path = tmp_path_factory.mktemp("ex1-dist") / "data.pt"
    torch.save({"images": (x - 0.1307) / 0.3081, "labels": torch.tensor(labels[:n].astype(np.int64))}, path)
    return path


def train_one_process(data: dict, *, lr: float = LR, rows_per_step: int = GLOBAL_BATCH, steps: int = STEPS,
                      offset: int = 0) -> dict[str, torch.Tensor]:
    """One process training the probed CNN on the first `rows_per_step` rows of each global batch
    (from global batch `offset` on); the default is what every correct script must reproduce."""
    model = probes.make_cnn(seed=SEED)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for step in range(offset, offset + steps):
        rows = slice(step * GLOBAL_BATCH, step * GLOBAL_BATCH + rows_per_step)
        loss = F.cross_entropy(model(data["images"][rows]), data["labels"][rows])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@pytest.fixture(scope="session")
def reference_state(global_batches):
    """One process, the whole global batch per step: what every correct script must reproduce."""
    return train_one_process(torch.load(global_batches, weights_only=True))


@pytest.fixture(scope="session")
def likely_mistakes(global_batches):
    """What the classic mistakes end with, each trained in one process: (state, what it means).
    A script whose weights land on one of them is told that cause, not a list of guesses.
    Trained only when some script's weights differ (a few seconds each on a busy machine)."""
    return functools.cache(lambda: classic_mistakes(torch.load(global_batches, weights_only=True)))


def classic_mistakes(data: dict) -> list[tuple[dict, str]]:
    per_rank = GLOBAL_BATCH // WORLD
    return [
        (train_one_process(data, lr=LR * per_rank),
         tr("the weights moved {factor}x too far: the loss is summed over each rank's {rows} rows "
            "(reduction=\"sum\") instead of averaged", factor=per_rank, rows=per_rank)),
        (train_one_process(data, lr=LR * WORLD),
         tr("the weights moved {factor}x too far: the gradients (or losses) are summed over the {world} ranks "
            "instead of averaged", factor=WORLD, world=WORLD)),
        (train_one_process(data, lr=LR / WORLD),
         tr("the weights moved 1/{world} as far: the loss is divided by the world size on top of the average the "
            "gradient sync already takes", world=WORLD)),
        (train_one_process(data, rows_per_step=per_rank),
         tr("they match training on the first half of each global batch only: every rank took the same rows, or "
            "the gradients were never averaged across ranks")),
        (train_one_process(data, steps=STEPS - 1),
         tr("they match {fewer} steps, not {steps}: one step is missing", fewer=STEPS - 1, steps=STEPS)),
        (train_one_process(data, offset=1, steps=STEPS - 1),
         tr("they match starting at the second global batch: step t must use rows [t * B, (t + 1) * B), from t = 0")),
    ]


def group_setup(gpus: int) -> str:
    """What a 2-rank group runs with on this machine, as the checks expect the script to choose."""
    if gpus >= WORLD:
        return tr("{world} ranks, NCCL on {world} GPUs", world=WORLD)
    if gpus:
        return tr("{world} ranks, gloo on the CPU ({gpus} GPU for {world} ranks: NCCL needs one per rank)",
                  world=WORLD, gpus=gpus)
    return tr("{world} ranks, gloo on the CPU", world=WORLD)


def run_script(target, filename, tmp_path, global_batches, *, launcher="torchrun", extra=(), env=None,
               setup: str | None = None):
    script = target.script(filename)
    out = tmp_path / "out"
    probe_dir = tmp_path / "probe"
    probe_dir.mkdir()
    args = ["--data", str(global_batches), "--out", str(out), "--steps", str(STEPS), "--global-batch",
            str(GLOBAL_BATCH), "--lr", str(LR), "--seed", str(SEED), *extra]
    nprocs = 1 if launcher == "single" else WORLD
    run = run_distributed(script, args, nprocs=nprocs, deadline_s=DEADLINE_S, workdir=tmp_path / "run",
                          launcher=launcher, env={probes.PROBE_ENV: str(probe_dir), **(env or {})},
                          outputs=(out, probe_dir))
    text = run.output + "".join(r.stderr for r in run.ranks)
    if "NotImplementedError" in text:
        raise TargetError(tr("{script} still raises NotImplementedError", script=filename), not_started=True)
    expect(not run.leftover_pids, tr("processes were left running after the script"), got=run.leftover_pids)
    if not run.ok:
        fail(tr("{script} ({setup}): {summary}", script=filename, setup=setup or group_setup(torch.cuda.device_count()),
                summary=run.failure_summary(DEADLINE_S)))
    return out, probe_dir


def tolerance_for(out) -> dict:
    facts = [json.loads(p.read_text()) for p in sorted(out.glob("rank*.json"))]
    return GPU_TOLERANCE if any(f.get("device", "").startswith("cuda") for f in facts) else CPU_TOLERANCE


def expect_same_weights(state_path, reference, tolerance, what, mistakes=()):
    expect(state_path.is_file(), tr("{what}: {file} was not written", what=what, file=state_path.name))
    state = torch.load(state_path, weights_only=True)
    if not state and "FSDP" in what and not what.endswith("rank 0"):
        fail(tr("{what}: {file} holds an empty state dict", what=what, file=state_path.name),
             hint=tr("get_model_state_dict(..., StateDictOptions(full_state_dict=True, cpu_offload=True)) gives the "
                     "gathered tensors to rank 0 only; use cpu_offload=False so that every rank gets the full dict"))
    expect(sorted(state) == sorted(reference), tr("{what}: state dict keys", what=what), expected=sorted(reference),
           got=sorted(state), hint=tr("save the unwrapped model's state dict (model.module / the full state dict)"))
    state = {k: state[k].float().cpu() for k in reference}
    off = [k for k in reference if not torch.allclose(state[k], reference[k], **tolerance)]
    if not off:
        return
    worst = max((state[k] - reference[k]).abs().max().item() for k in reference)
    fail(tr("{what}: final weights differ from one process training on the whole global batch (max |diff| "
            "{worst}, tolerance atol {atol}, rtol {rtol})", what=what, worst=f"{worst:.2e}",
            atol=f"{tolerance['atol']:g}", rtol=f"{tolerance['rtol']:g}"),
         hint=likely_cause(state, reference, off, tolerance, mistakes))


def likely_cause(state, reference, off, tolerance, mistakes) -> str:
    """The likelier cause, from what differs: a known mistake the weights match, else which
    parameters differ."""
    for candidate, meaning in (mistakes() if callable(mistakes) else mistakes):
        if all(torch.allclose(state[k], candidate[k], **tolerance) for k in reference):
            return meaning
    if len(off) < len(reference):
        return tr("only {names} differ: these parameters were not trained like the rest (are they wrapped, "
                  "sharded and synchronised like the others?)", names=", ".join(off))
    return tr("every layer differs: each rank needs its own half of every global batch, the mean loss over its rows, "
              "and gradients averaged over ranks (DDP/FSDP do it in backward)")


def expect_rows_split(probe_dir, what):
    for rank in range(WORLD):
        rows = [r["rows"] for r in probes.read_probe(probe_dir, rank)]
        expect(len(rows) == STEPS, tr("{what}: rank {rank} ran the model once per step", what=what, rank=rank),
               expected=STEPS, got=len(rows))
        expect(set(rows) == {GLOBAL_BATCH // WORLD}, tr("{what}: rows rank {rank} saw per step", what=what, rank=rank),
               expected=GLOBAL_BATCH // WORLD, got=sorted(set(rows)),
               hint=tr("each rank takes only its share of the global batch"))


@pytest.mark.item("ex1.5")
@pytest.mark.parametrize("gpus", [0, 1, 2])
def test_choose_backend(target, monkeypatch, gpus):
    """One backend for the whole group: with 0, 1 and 2 GPUs simulated (torch.cuda.device_count
    patched), every local rank of a 2-rank group gets NCCL and its own GPU, or all get gloo."""
    common = target.module("ex1_distributed_common.py")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: gpus)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: gpus > 0)
    got = []
    for rank in range(WORLD):
        backend, device = common.choose_backend(rank, WORLD)
        got.append((backend, str(device)))
    wanted = [("nccl", f"cuda:{rank}") for rank in range(WORLD)] if gpus >= WORLD else [("gloo", "cpu")] * WORLD
    expect(got == wanted, tr("choose_backend(local_rank, {world}) for local ranks 0 and 1 on a machine with {gpus} "
                             "GPU(s)", world=WORLD, gpus=gpus),
           expected=wanted, got=got,
           hint=tr("decide once for the group: NCCL only when every local rank has its own GPU "
                   "(torch.cuda.device_count() >= local_world_size), else gloo and the CPU for every rank"))


@pytest.mark.item("ex1.5")
@pytest.mark.parametrize("launcher", ["torchrun", "spawn"])
def test_ddp_matches_one_process(target, tmp_path, global_batches, reference_state, likely_mistakes, launcher,
                                 request):
    request.node.user_properties.append(("runs_with", group_setup(torch.cuda.device_count())))
    out, probe_dir = run_script(target, "ex1_ddp.py", tmp_path, global_batches, launcher=launcher)
    expect_rows_split(probe_dir, f"DDP ({launcher})")
    expect_same_weights(out / "final_state.pt", reference_state, tolerance_for(out), f"DDP ({launcher})",
                        likely_mistakes)
    for rank in range(WORLD):
        facts = json.loads((out / f"rank{rank}.json").read_text())
        expect(facts.get("world_size") == WORLD and facts.get("rank") == rank,
               tr("rank{rank}.json: its rank and world size", rank=rank), got=facts)


@pytest.mark.item("ex1.5")
def test_fsdp_fully_shards_and_matches_one_process(target, tmp_path, global_batches, reference_state,
                                                   likely_mistakes, request):
    request.node.user_properties.append(("runs_with", group_setup(torch.cuda.device_count())))
    out, probe_dir = run_script(target, "ex1_fsdp.py", tmp_path, global_batches)
    expect_rows_split(probe_dir, "FSDP")
    tolerance = tolerance_for(out)
    for rank in range(WORLD):
        records = probes.read_probe(probe_dir, rank)
        expect_sharded_per_layer(records[-1], rank)
        expect_same_weights(out / f"final_state_rank{rank}.pt", reference_state, tolerance, f"FSDP rank {rank}",
                            likely_mistakes)


def expect_sharded_per_layer(record: dict, rank: int) -> None:
    """ZeRO-3 as the docstring asks: each layer sharded on its own, freed right after its forward."""
    shares, after = record.get("at_rest", {}), record.get("after_layers", {})
    wrapped = record.get("fsdp2", [])
    layers = [name for name in shares if name in wrapped]
    sharded = bool(shares) and all(v <= 1 / WORLD + 0.05 for v in shares.values())
    if not sharded and "" in wrapped and not layers:
        fail(tr("FSDP: only the whole model was given to fully_shard; the layers of model.features were not sharded "
                "separately, so the whole model is gathered at once for the forward (rank {rank} held all of every "
                "layer during it)", rank=rank),
             hint=tr("fully_shard(layer) for each layer of model.features, then fully_shard(model)"))
    expect(sharded, tr("FSDP: rank {rank} should hold about 1/{world} of each layer's parameters between steps",
                       rank=rank, world=WORLD),
           got=shares, hint=tr("shard each layer of model.features, then the model (fully_shard / auto-wrap)"))
    if wrapped and "" not in wrapped:
        fail(tr("FSDP: the layers were sharded but the model itself was not given to fully_shard: each layer is "
                "then its own root, which keeps its gathered parameters after the forward, and the head's parameters "
                "are neither sharded nor averaged across ranks"),
             hint=tr("after the layers, call fully_shard(model) as well"))
    expect(all(v <= 1 / WORLD + 0.05 for v in after.values()),
           tr("FSDP: rank {rank}: each layer's gathered parameters are freed right after its forward (ZeRO-3)",
              rank=rank),
           got=after, hint=tr("ZeRO-3 is reshard_after_forward=True (FSDP2) or FULL_SHARD (FSDP1), not ZeRO-2"))


@pytest.mark.item("ex1.5")
def test_dataparallel_splits_batches_and_matches_one_process(target, tmp_path, global_batches, reference_state,
                                                             request):
    gpus = torch.cuda.device_count()
    if gpus >= 2:
        extra, env, setup = (), {}, tr("nn.DataParallel on {gpus} GPUs", gpus=gpus)
    else:  # nn.DataParallel needs two GPUs to split anything: the CPU stand-in, with any GPU hidden
        extra, env = ("--data-parallel-class", "dlgrade.checkkit.rank_probes:CpuDataParallel"), {"CUDA_VISIBLE_DEVICES": ""}
        setup = tr("dlgrade.checkkit.rank_probes:CpuDataParallel on the CPU ({gpus} GPU(s): fewer than 2)", gpus=gpus)
    request.node.user_properties.append(("runs_with", setup))
    out, probe_dir = run_script(target, "ex1_dataparallel.py", tmp_path, global_batches, launcher="single",
                                extra=extra, env=env, setup=setup)
    if extra:
        chunks = [json.loads(line)["chunks"] for line in (probe_dir / "dataparallel.jsonl").read_text().splitlines()] \
            if (probe_dir / "dataparallel.jsonl").exists() else []
        expect(len(chunks) == STEPS and all(c == [GLOBAL_BATCH // 2] * 2 for c in chunks),
               tr("DataParallel ({setup}): each global batch split in two along dim 0", setup=setup),
               expected=prose(f"{STEPS} x [16, 16]"), got=chunks[:3],
               hint=tr("give the wrapper the whole batch and device_ids for two devices"))
    expect_same_weights(out / "final_state.pt", reference_state,
                        GPU_TOLERANCE if not extra else CPU_TOLERANCE, "DataParallel")
