"""Pipeline that turns the Frictionless data packages in datasets/ into the portal's static site.

Layout: stages/ holds the build's stages in data-flow order (load → validate → derive → charts →
downloads → pages → catalog → site → search); tools/ the maintainer tools; at the top what both use:
cli, settings, errors, units, families (the family registry and the label table), build (the
orchestrator), cache and workers (the one process pool).
"""

__version__ = "0.1.0"
