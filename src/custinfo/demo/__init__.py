"""Realistic demo data: users in every role, customers of every class, and their history (bulk-loaded).

`generate()` in `custinfo.demo.generator` is the entry point (used by `custinfo demo`,
the tests and the benchmarks); `archetypes` says which behaviour puts a customer in
which class; `bulk` writes the rows; `data` holds the name, place and product tables.
"""
