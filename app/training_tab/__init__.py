"""The "Training" tab: the live plot grid of the run's metrics (one cell per metric spec)."""
