"""The trainer's parts (the entry point stays :func:`simcse_core.trainer.train`):

- ``inputs``: the run's sentences (:func:`simcse_core.data.run_sentences`), tokenised
  once; the probe set; confirmed false-negative pairs as batch masks.
- ``step``: :class:`~simcse_core.training.step.ContrastiveStep`, one step's forward,
  loss (the registry's loss object) and backward.
- ``loop``: :class:`~simcse_core.training.loop.TrainLoop`, the step loop with named
  state: snapshots, checkpoints, live changes, pause/stop.
- ``probe``: what a snapshot measures on the last batch and the probe set.
- ``checkpoints``: resume and save.
"""
