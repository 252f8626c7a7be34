"""Scriptable REST faults: rules matched by method and path that break requests on purpose.

Kinds (each rule applies to the next `count` matching requests, or until cleared):

- `drop`: close the connection without executing the request (the client sees a disconnect).
- `lose_response`: execute the request, then close the connection without answering.
- `delay`: wait `seconds`, then answer; `executeAt` says whether the request runs before the
  wait ("before": placed, but the client may time out) or after it ("after": Binance's second
  recvWindow check applies just before execution, so a stale request gets -1021).
- `http_5xx`: answer `status` (502, 503 or 504) with an HTML or JSON body, after executing the
  request or without executing it (`execute`).
- `error_code`: answer `{"code", "msg"}` (e.g. -1006 or -1007) with `status` (default 503),
  after executing or without executing.
- `status_429` / `status_418`: answer a rate-limit error (-1003) with `Retry-After` without
  executing; 418 also bans the client's IP for `retryAfter` seconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from engine.sim.core.errors import MSG_TIMEOUT, MSG_UNEXPECTED_RESP


class RestFaultKind(StrEnum):
    DROP = "drop"
    LOSE_RESPONSE = "lose_response"
    DELAY = "delay"
    HTTP_5XX = "http_5xx"
    ERROR_CODE = "error_code"
    STATUS_429 = "status_429"
    STATUS_418 = "status_418"


_MSG_UNKNOWN = "An unknown error occurred while processing the request."
_KNOWN_MESSAGES = {-1006: MSG_UNEXPECTED_RESP, -1007: MSG_TIMEOUT}
_REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass(frozen=True)
class RestFault:
    """One rule, as added through POST /_sim/faults."""

    kind: RestFaultKind
    method: str = "*"
    path: str = "*"
    count: int | None = None
    execute: bool = False
    execute_after_delay: bool = False
    seconds: float = 0.0
    status: int = 503
    html: bool = False
    code: int = -1007
    msg: str = MSG_TIMEOUT
    retry_after_s: int = 60

    def matches(self, method: str, path: str) -> bool:
        if self.method != "*" and self.method != method.upper():
            return False
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return path == self.path

    def runs_before_answer(self) -> bool:
        """Whether the request is executed before the fault decides the answer."""
        if self.kind is RestFaultKind.LOSE_RESPONSE:
            return True
        if self.kind is RestFaultKind.DELAY:
            return not self.execute_after_delay
        if self.kind in (RestFaultKind.HTTP_5XX, RestFaultKind.ERROR_CODE):
            return self.execute
        return False

    def body(self) -> tuple[str, str]:
        """(content type, text) of the answer of an http_5xx or error_code fault."""
        if self.kind is RestFaultKind.HTTP_5XX and self.html:
            title = f"{self.status} {_REASONS.get(self.status, 'Error')}"
            text = f"<html><head><title>{title}</title></head><body><center><h1>{title}</h1>"
            return "text/html", text + "</center></body></html>"
        if self.kind is RestFaultKind.HTTP_5XX:
            return "application/json", json.dumps({"code": -1000, "msg": _MSG_UNKNOWN})
        return "application/json", json.dumps({"code": self.code, "msg": self.msg})

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "kind": self.kind.value,
            "method": self.method,
            "path": self.path,
            "count": self.count,
        }
        if self.kind is RestFaultKind.DELAY:
            found["seconds"] = self.seconds
            found["executeAt"] = "after" if self.execute_after_delay else "before"
        if self.kind in (RestFaultKind.HTTP_5XX, RestFaultKind.ERROR_CODE):
            found.update(status=self.status, execute=self.execute)
        if self.kind is RestFaultKind.HTTP_5XX:
            found["format"] = "html" if self.html else "json"
        if self.kind is RestFaultKind.ERROR_CODE:
            found.update(code=self.code, msg=self.msg)
        if self.kind in (RestFaultKind.STATUS_429, RestFaultKind.STATUS_418):
            found["retryAfter"] = self.retry_after_s
        return found


def _int(payload: dict[str, Any], name: str, default: int) -> int:
    value = payload.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{name} must be an integer")
    return value


def parse_fault(payload: dict[str, Any]) -> RestFault:
    """Build a rule from its JSON form; raise ValueError with a readable reason."""
    try:
        kind = RestFaultKind(str(payload.get("kind", "")))
    except ValueError:
        kinds = ", ".join(k.value for k in RestFaultKind)
        raise ValueError(f"kind must be one of: {kinds}") from None
    count = payload.get("count")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
        raise ValueError("count must be a positive integer")
    method = str(payload.get("method", "*")).upper()
    path = str(payload.get("path", "*"))
    execute = payload.get("execute", False)
    if not isinstance(execute, bool):
        raise ValueError("execute must be true or false")
    seconds = payload.get("seconds", 0)
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
        raise ValueError("seconds must be a non-negative number")
    execute_at = payload.get("executeAt", "before")
    if execute_at not in ("before", "after"):
        raise ValueError("executeAt must be 'before' or 'after'")
    fmt = payload.get("format", "json")
    if fmt not in ("json", "html"):
        raise ValueError("format must be 'json' or 'html'")
    default_status = 502 if kind is RestFaultKind.HTTP_5XX else 503
    status = _int(payload, "status", default_status)
    if kind is RestFaultKind.HTTP_5XX and not 500 <= status <= 599:
        raise ValueError("status of http_5xx must be 5xx")
    code = _int(payload, "code", -1007)
    msg = payload.get("msg", _KNOWN_MESSAGES.get(code, _MSG_UNKNOWN))
    return RestFault(
        kind=kind,
        method=method,
        path=path,
        count=count,
        execute=execute,
        execute_after_delay=execute_at == "after",
        seconds=float(seconds),
        status=status,
        html=fmt == "html",
        code=code,
        msg=str(msg),
        retry_after_s=_int(payload, "retryAfter", 60),
    )


@dataclass
class _Entry:
    rule: RestFault
    remaining: int | None = field(default=None)


class FaultBook:
    """The active REST fault rules; the first matching rule with uses left applies."""

    def __init__(self) -> None:
        self._entries: list[_Entry] = []

    def add(self, rule: RestFault) -> None:
        self._entries.append(_Entry(rule, rule.count))

    def clear(self) -> None:
        self._entries.clear()

    def take(self, method: str, path: str) -> RestFault | None:
        """The rule for this request, using up one of its applications."""
        for entry in self._entries:
            if entry.rule.matches(method, path):
                if entry.remaining is not None:
                    entry.remaining -= 1
                    if entry.remaining == 0:
                        self._entries.remove(entry)
                return entry.rule
        return None

    def to_json(self) -> list[dict[str, Any]]:
        return [{**e.rule.to_json(), "remaining": e.remaining} for e in self._entries]
