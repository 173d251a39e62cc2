"""``tandem report``: one self-contained HTML file with charts of a period, read from the
store (:mod:`handoff.storage.report_queries`), computed in :mod:`.figures`, drawn with
matplotlib in :mod:`.charts` and laid out in :mod:`.page`."""
