"""Pipeline that turns the Frictionless data packages in datasets/ into the portal's static site.

Stages, in the order data flows (one module each):
load → validate → derive → charts → pages → downloads → catalog → site
"""

__version__ = "0.1.0"
