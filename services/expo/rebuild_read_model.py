"""Rebuild the expo's read model of businesses from the registry's current facts.

    python -m services.expo.rebuild_read_model

How, and why the expo may keep running meanwhile: backbone/read_models.py. Prints one JSON
line: how many businesses were applied.
"""
from backbone import read_models
from services.expo.service import READ_MODEL_HANDLER, remember_business

if __name__ == "__main__":
    read_models.main("expo", READ_MODEL_HANDLER, remember_business)
