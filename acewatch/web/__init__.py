"""`acewatch serve`: a read-only web app over the store, for students, advisers and the operator.

It reads through the Python API the CLI uses (one long-lived `acewatch.Acewatch`) and never
writes: every route is GET/HEAD.
"""
