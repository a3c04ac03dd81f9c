"""The fault campaign's parts (issue 21), used by tests/integration/test_campaign.py:

- world.py: the receivers that record every request, the heraldd instances (kept
  across restarts, with their preloads) and the campaign's own PostgreSQL cluster;
- load.py: a bounded loop posting tasks with unique business ids, keeping each 201;
- nemesis.py: the faults, injected one at a time in a seeded random order and healed;
- checker.py: the invariants, read from the receivers' logs, /v1 and the database.
"""
