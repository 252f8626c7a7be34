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
MSG_OCO_BAD_PRICES = "The relationship of the prices for the orders is not correct."
MSG_CANCEL_RESTRICTED = "Order was not canceled due to cancel restrictions."
MSG_STP_NOT_ALLOWED = "This symbol does not allow the specified self-trade prevention mode."
MSG_BAD_COMBO = "Combination of optional parameters invalid."
MSG_REPLACE_FAILED = "Order cancel-replace failed."
MSG_REPLACE_PARTIAL = "Order cancel-replace partially failed."
MSG_MARKET_CLOSED = "Market is closed."
MSG_NO_LIQUIDITY = "Order book liquidity is less than LOT_SIZE filter minimum quantity."
DECIMAL_RANGE = r"^([0-9]{1,20})(\.[0-9]{1,20})?$"
INTEGER_RANGE = r"^[0-9]{1,20}$"
CLIENT_ID_RANGE = r"^[\.A-Z\:/a-z0-9_-]{1,36}$"


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


def illegal_chars(name: str, legal_range: str) -> SimError:
    return SimError(
        -1100, f"Illegal characters found in parameter '{name}'; legal range is '{legal_range}'."
    )


def not_required(name: str) -> SimError:
    return SimError(-1106, f"Parameter '{name}' sent when not required.")


def one_of_required(first: str, second: str) -> SimError:
    return SimError(-1102, f"Param '{first}' or '{second}' must be sent, but both were empty/null!")


def order_rejected(msg: str) -> SimError:
    """-2010 NEW_ORDER_REJECTED with the matching engine's message."""
    return SimError(-2010, msg)


def cancel_rejected(msg: str = MSG_UNKNOWN_ORDER) -> SimError:
    """-2011 CANCEL_REJECTED with the matching engine's message."""
    return SimError(-2011, msg)


def no_such_order() -> SimError:
    return SimError(-2013, MSG_NO_SUCH_ORDER)


def bad_symbol() -> SimError:
    return SimError(-1121, MSG_BAD_SYMBOL)


def bad_key() -> SimError:
    return SimError(-2015, MSG_BAD_KEY, 401)
