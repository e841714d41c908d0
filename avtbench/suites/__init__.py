"""Paper suites: a published table or figure as a grid of cells, run like any grid and tabled beside the
published figures (`avtbench suite list | run | table`; see `suites.load` for the YAML)."""
