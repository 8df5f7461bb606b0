"""The build's stages, in the order data flows through them (build.py runs them in this order):

1. load      - find the data packages, read descriptors, errata and ignore lists safely
2. validate  - frictionless v5 plus the project's checks (checks.py), provenance against the sources
3. derive    - merged tables, datasets, regions, headline figures: every number the site shows
4. charts    - altair specs rendered at build time to SVG and PNG
5. downloads - CSV, XLSX, JSON, data packages and zips (before pages: pages show sizes and hashes)
6. pages     - the Markdown tree, from templates/
7. catalog   - data.json, DCAT, the JSON API, the Atom feed
8. site      - mkdocs builds the tree
9. search    - Chinese search in the built site

Each stage's `run()` takes typed inputs and returns a typed result.
"""
