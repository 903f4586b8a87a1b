"""Naming why a request failed, for logs and for `unknown` records."""


def failure_reason(failure) -> str:
    """`HTTP 503` for an error response, else the network error's type and message."""
    response = getattr(failure.value, "response", None)
    if response is not None:
        return f"HTTP {response.status}"
    return f"{failure.type.__name__}: {failure.getErrorMessage()}"[:300]
