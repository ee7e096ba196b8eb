"""Python exceptions for the server's answers, each carrying the server's message."""
import pyarrow as pa
import pyarrow.flight as fl


class AnnflightError(Exception):
    """A call the server refused or failed; ``str(e)`` is the server's message."""


class InvalidRequest(AnnflightError, ValueError):
    """INVALID_ARGUMENT: a bad request, ticket or action body (the message names the key)."""


class NotFound(AnnflightError, KeyError):
    """NOT_FOUND: an unknown collection, a missing store or element."""

    def __str__(self):  # KeyError would quote the message
        return self.args[0] if self.args else ""


class Unauthorized(AnnflightError, PermissionError):
    """UNAUTHENTICATED / PERMISSION_DENIED: no or a wrong token, or a refused file."""


class Unavailable(AnnflightError, ConnectionError):
    """UNAVAILABLE: the server is unreachable or a store did not open in time."""


class ResourceExhausted(Unavailable):
    """RESOURCE_EXHAUSTED: a server limit (streams at once, per client) was reached; retry
    when a stream ends (the message names the limit)."""


class ServerError(AnnflightError):
    """INTERNAL and everything else: a damaged store or a server bug."""


def translate(e: Exception) -> AnnflightError:
    """The package's exception for what pyarrow raised for a Flight call."""
    message = _server_message(e)
    # pyarrow raises ArrowInvalid for gRPC's RESOURCE_EXHAUSTED: told apart by its text.
    if "resource exhausted" in str(e.args[0] if e.args else e).lower():
        return ResourceExhausted(message)
    if isinstance(e, pa.ArrowInvalid):
        return InvalidRequest(message)
    if isinstance(e, (KeyError, pa.ArrowKeyError)):
        return NotFound(message)
    if isinstance(e, (fl.FlightUnauthenticatedError, fl.FlightUnauthorizedError)):
        return Unauthorized(message)
    if isinstance(e, fl.FlightUnavailableError):
        return Unavailable(message)
    return ServerError(message)


def _server_message(e: Exception) -> str:
    text = str(e.args[0]) if e.args else str(e)
    # pyarrow appends its own context after the server's description.
    for marker in (". gRPC client debug context:", ". Detail:"):
        if marker in text:
            text = text.split(marker)[0]
    prefix = "Flight returned "
    if text.startswith(prefix) and "with message: " in text:
        text = text.split("with message: ", 1)[1]
    return text
