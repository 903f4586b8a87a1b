"""`acewatch serve`: a read-only web app over the store, for students, advisers and the operator.

It reads through the same functions as the CLI (acewatch.check, acewatch.outputs.reports,
acewatch.outputs.feed) and never writes: every route is GET/HEAD.
"""
