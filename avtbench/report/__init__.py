"""`avtbench report`: a result store as a static web site (HTML pages and their pictures, relative links).

One idea per module: `sections.py` (what a plugin's section is: hook `avtbench_report_sections`), `html.py`
(page skeleton and escaping), `model.py` (the store read into what the pages show, and where each page
goes), `table.py` (the main table), `charts.py` (matplotlib pictures), `classes.py` (per-class bars per
task), `curves.py` (training curves per checkpoint), `cell.py` (a cell's page: metrics, provenance,
plugin sections), `failures.py` (failed cells), `site.py` (writes it all).

This package's `__init__` imports nothing, so a plugin's entry-point module can import
`avtbench.report.sections` without making discovery heavy.
"""
