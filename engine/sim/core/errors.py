"""Binance's error codes, messages and HTTP statuses, as the embedded exchange returns them."""

from __future__ import annotations

from typing import Any


class SimError(Exception):
    """A Binance-style failure: `{"code": code, "msg": msg}` with an HTTP status.

    `extra` carries additional JSON fields (e.g. the `data` of a cancelReplace 409) and
    `headers` any response headers (e.g. Retry-After on 429/418).
    """

    def __init__(
        self,
        code: int,
        msg: str,
        http_status: int = 400,
        *,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg
        self.http_status = http_status
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "msg": self.msg, **self.extra}


# Messages as in binance-spot-api-docs/errors.md.
MSG_INSUFFICIENT_BALANCE = "Account has insufficient balance for requested action."
MSG_DUPLICATE_ORDER = "Duplicate order sent."
MSG_WOULD_MATCH = "Order would immediately match and take."
MSG_WOULD_TRIGGER = "Order would trigger immediately."
MSG_UNKNOWN_ORDER = "Unknown order sent."
MSG_NO_SUCH_ORDER = "Order does not exist."
MSG_NO_SUCH_ORDER_LIST = "Order list does not exist."
MSG_BAD_SYMBOL = "Invalid symbol."
MSG_BAD_SIGNATURE = "Signature for this request is not valid."
MSG_BAD_KEY = "Invalid API-key, IP, or permissions for action."
MSG_TS_OUTSIDE = "Timestamp for this request is outside of the recvWindow."
MSG_TS_AHEAD = "Timestamp for this request was 1000ms ahead of the server's time."
MSG_TIMEOUT = (
    "Timeout waiting for response from backend server. "
    "Send status unknown; execution status unknown."
)
MSG_UNEXPECTED_RESP = (
    "An unexpected response was received from the message bus. Execution status unknown."
)


def mandatory(name: str) -> SimError:
    return SimError(
        -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def bad_precision(name: str) -> SimError:
    return SimError(-1111, f"Parameter '{name}' has too much precision.")


def filter_failure(filter_type: str) -> SimError:
    return SimError(-1013, f"Filter failure: {filter_type}")


def invalid_param(name: str) -> SimError:
    return SimError(-1130, f"Data sent for parameter '{name}' is not valid.")
