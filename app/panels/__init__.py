"""Dock panels: the run setup, the temperature lens and the false-negative panel.

The lens and the false-negative panel take the studio context and follow its run
model (:func:`app.panels.analysis.add_analysis_panels` docks them); none knows the
main window. The setup panel is a form built from one table of field specs
(:mod:`app.panels.setup_fields`). Work that is not drawing lives beside each panel in
its own module: the lens's inputs (:mod:`app.panels.lens_inputs`, no Qt), the
false-negative detection in worker threads (:mod:`app.panels.fn_detector`) and the
candidate table (:mod:`app.panels.fn_table`). The dropout-view panel
(:mod:`app.panels.dropout_panel`, its picture in :mod:`app.panels.dropout_plot`) draws
a sentence's dropout views in a worker (:mod:`app.panels.dropout_job`, no Qt); the
lens's triplet-against-InfoNCE section is :mod:`app.panels.triplet_section`.
"""
