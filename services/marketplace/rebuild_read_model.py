"""Rebuild the marketplace's read model of businesses from the registry's current facts.

    python -m services.marketplace.rebuild_read_model

How, and why the marketplace may keep running meanwhile: backbone/read_models.py. Products
are kept; what shows follows the rebuilt statuses. Prints one JSON line: how many businesses
were applied.
"""
from backbone import read_models
from services.marketplace.service import READ_MODEL_HANDLER, remember_business

if __name__ == "__main__":
    read_models.main("marketplace", READ_MODEL_HANDLER, remember_business)
