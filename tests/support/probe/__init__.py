"""A consumer built only from the shared backbone, as every later service's consumers will be.

It records each effect it applies in its own database, so tests can count effects per event:
exactly one, whatever the redeliveries. Tests can also tell it to fail for a business.
"""
