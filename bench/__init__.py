"""Concord's benchmarks: seed a large data set, then measure pages and API.

    python -m bench --customers 100000        (or: make bench BENCH_ARGS="--customers 100000")

Runs on whatever DATABASE_URL points to, in a database of its own (`<name>_bench`
on PostgreSQL, var/bench.sqlite3 on SQLite), never on the development data. Prints
a table and writes JSON to bench/results/. Not a test: it prints figures and ratios
against targets, it does not fail a build.

Adding a measure: register it in bench/measures.py (and, if it needs data the
customers seed lacks, a seeding step in bench/seed.py). An area with much of its
own may keep both in one module that registers itself through bench.measures'
decorators, as bench/billing.py does (1M invoices; `@once` scenarios such as 16
clients issuing at once).
"""
