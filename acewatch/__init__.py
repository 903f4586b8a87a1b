"""The acewatch program: what composes the crawler, the store and the judging core for people.

For now it holds the read-only web app (`acewatch.web`); the CLI still lives in acewatch/cli.py.
"""
