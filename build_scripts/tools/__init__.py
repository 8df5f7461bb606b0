"""Maintainer tools, outside the build: coverage (what is left to extract), scaffold (a new package),
diff (data changes between revisions), synth (synthetic corpora) and bench (build cost)."""
