"""Exercise 1.5 (b): train with DistributedDataParallel, as a plain script.

    torchrun --standalone --nproc-per-node 2 exercises/ex1_ddp.py --data D --out OUT
    python exercises/ex1_ddp.py --spawn 2 --data D --out OUT     (torch.multiprocessing.spawn)

Options and the training recipe: see ex1_distributed_common.py. Results the checks read:
    OUT/final_state.pt     rank 0 saves the trained model's state dict (without DDP's "module." prefix)
    OUT/rank<R>.json       every rank: {"rank", "world_size", "backend", "device"}
"""
from __future__ import annotations

import json
import os

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn import functional as F
from torch.nn.parallel import DistributedDataParallel

from ex1_distributed_common import build_model, choose_backend, global_batch, load_data, parse_args


def shard(images: torch.Tensor, labels: torch.Tensor, rank: int, world_size: int):
    """This rank's share of a global batch: the contiguous rows [rank * B/W, (rank + 1) * B/W).

    Every rank must see a different part; together they cover the whole batch.
    """
    # BEGIN SOLUTION
    size = len(images) // world_size
    return images[rank * size: (rank + 1) * size], labels[rank * size: (rank + 1) * size]
    # END SOLUTION


def train(rank: int, world_size: int, args, init_method: str = "env://") -> None:
    """One rank's work: join the process group, train the DDP-wrapped model, write the results.

    Join with dist.init_process_group(backend, init_method=init_method, rank=rank,
    world_size=world_size), the backend and device from choose_backend(local rank, local world
    size: LOCAL_RANK and LOCAL_WORLD_SIZE under torchrun, rank and world_size when spawned). Build the
    model with build_model(args.model_factory, args.seed) on the device and wrap it in
    DistributedDataParallel (device_ids only for a CUDA device). For each step take the global
    batch, this rank's shard(), mean cross-entropy, backward (DDP averages the gradients over
    ranks), SGD step. Then write OUT/rank<R>.json, and OUT/final_state.pt from rank 0, and
    destroy the process group.
    """
    # BEGIN SOLUTION
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    backend, device = choose_backend(local_rank, int(os.environ.get("LOCAL_WORLD_SIZE", world_size)))
    dist.init_process_group(backend, init_method=init_method, rank=rank, world_size=world_size)
    images, labels = load_data(args.data)
    model = build_model(args.model_factory, args.seed).to(device)
    ddp = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    optimizer = torch.optim.SGD(ddp.parameters(), lr=args.lr)
    for step in range(args.steps):
        x, y = shard(*global_batch(images, labels, step, args.global_batch), rank, world_size)
        loss = F.cross_entropy(ddp(x.to(device)), y.to(device))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    facts = {"rank": rank, "world_size": world_size, "backend": backend, "device": str(device)}
    (args.out / f"rank{rank}.json").write_text(json.dumps(facts))
    if rank == 0:
        torch.save({k: v.cpu() for k, v in ddp.module.state_dict().items()}, args.out / "final_state.pt")
    dist.barrier()
    dist.destroy_process_group()
    # END SOLUTION


def spawned(rank: int, world_size: int, args) -> None:
    """Entry point of a torch.multiprocessing.spawn child: rendezvous through a file in OUT."""
    train(rank, world_size, args, init_method=f"file://{(args.out / 'rendezvous').resolve()}")


def main(argv: list[str] | None = None) -> None:
    args = parse_args("Exercise 1.5: DistributedDataParallel", argv,
                      lambda p: p.add_argument("--spawn", type=int, default=0,
                                               help="start this many ranks with torch.multiprocessing.spawn"))
    if args.spawn:
        (args.out / "rendezvous").unlink(missing_ok=True)
        mp.spawn(spawned, args=(args.spawn, args), nprocs=args.spawn, join=True)
    else:
        train(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), args)


if __name__ == "__main__":
    main()
