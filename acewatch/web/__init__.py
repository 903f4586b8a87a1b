"""`acewatch serve`: a read-only web app over the store, for students, advisers and the operator.

It reads through the same functions as the CLI (monitor.check, monitor.reports,
monitor.feed) and never writes: every route is GET/HEAD.
"""
