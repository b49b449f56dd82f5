"""SimCSE training as a generator of snapshots.

    gen = train(TrainConfig(...), control=TrainControl())
    for snap in gen:          # a Snapshot every `snapshot_every` steps, and at the end
        draw(snap)            # plain data: numpy arrays and Python scalars
    # or: gen.send({"temperature": 0.1}) at a yield; control.stop() from any thread

Unsupervised mode feeds each sentence twice through the encoder with dropout on (one
forward pass of 2N rows); the two outputs are a positive pair and every other sentence
of the batch is a negative. Supervised mode takes (sent0, sent1[, hard_neg]) rows as
the reference SimCSE does. AdamW with linear decay, no warm-up, no clipping by default,
bf16 autocast on CUDA.

The loss is an object chosen by name (``config.loss_variant``) from
:data:`simcse_core.losses.LOSSES`. The code lives in :mod:`simcse_core.training`:
``inputs`` (sentences via :func:`simcse_core.data.run_sentences`, tokenised once),
``step`` (:class:`ContrastiveStep`), ``loop`` (:class:`TrainLoop`, the step loop),
``probe`` (snapshot measurements) and ``checkpoints``.

The step (:class:`ContrastiveStep`) reads nothing back from the device: token ids are
tokenised once, gathered per batch into pinned memory and copied asynchronously on
CUDA; batch widths are rounded to buckets (``pad_to_multiple_of``, ``static_padding``)
so shapes repeat; the masked-negative count comes from the host-side mask; losses are
read back only at snapshot / checkpoint time (the per-step NaN check is CPU-only).
Options: ``compile`` (torch.compile; CUDA graphs on one GPU; eager fallback with a
``{"step": s, "compile": "fallback: ..."}`` event), ``grad_cache_chunk`` (gradient
cache, :mod:`simcse_core.gradcache`), and data parallelism under torchrun
(:mod:`simcse_core.distributed`)::

    torchrun --standalone --nproc_per_node=K -m simcse_core.cli train ...        # one node
    torchrun --nnodes=M --nproc_per_node=K --node_rank=R --rdzv_backend=c10d \
             --rdzv_endpoint=HOST0:29500 --rdzv_id=RUN -m simcse_core.cli train ...  # M nodes

Reproducibility: the batch order comes from a generator seeded with (seed, epoch);
snapshots (probe encoding with dropout for alignment) run under a forked RNG so they
never change the training's random stream. Same seed and config on the CPU therefore
give the same losses, with or without snapshots, and after resuming from a checkpoint.
"""

from __future__ import annotations

from collections.abc import Generator

from . import distributed as D
from .config import TrainConfig
from .control import TrainControl
from .model import pick_device
from .snapshot import Snapshot
from .training.inputs import FalseNegatives, TrainData, pretokenize
from .training.loop import TrainLoop, TrainResult
from .training.step import ContrastiveStep

# names from before the split into simcse_core.training (tests and scripts import them)
_Data = TrainData
_FalseNegatives = FalseNegatives
_pretokenize = pretokenize


def train(config: TrainConfig, control: TrainControl | None = None) -> Generator[Snapshot, dict | None, TrainResult]:
    """Run SimCSE training, yielding a :class:`Snapshot` at step 0, every
    ``snapshot_every`` steps and at the end (``done``) or on stop (``stopped``).

    Errors in the inputs raise :class:`~simcse_core.errors.SimCSEError` subclasses
    before the first step; a non-finite loss raises :class:`TrainingError` after the
    last good checkpoint has been kept. ``send(dict)`` at a yield or
    ``control.update(...)`` change temperature / learning_rate / fn_pairs / fn_policy
    from the next step.

    Under ``torchrun`` (WORLD_SIZE > 1) the run is data-parallel (see
    :mod:`simcse_core.distributed`): the global batch is K x per_device_train_batch_size,
    rank 0 alone writes the run folder and yields snapshots (other ranks yield nothing
    and return at the end), stop requests are agreed every few steps and live changes
    are refused.
    """
    config.validate()
    control = control or TrainControl()
    device = pick_device(config.device)
    dist_info = D.init_from_env(device.type)
    try:
        return (yield from TrainLoop(config, control, device, dist_info).run())
    finally:
        D.shutdown(dist_info)


__all__ = ["train", "TrainResult", "ContrastiveStep", "TrainLoop"]
