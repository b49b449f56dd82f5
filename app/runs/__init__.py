"""Where runs come from: the one :class:`~app.runs.controller.RunController` that writes
the run model, and its sources (live training, a followed or replayed run folder, a
preset's runs), each a thread or a poller that hands over plain data."""
