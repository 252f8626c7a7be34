"""The book of our own orders: a pure state machine moved only by the venue's reports."""

from engine.orders.book import DEFAULT_EVICTED_WINDOW, DuplicateClientOrderId, OrderBook

__all__ = ["DEFAULT_EVICTED_WINDOW", "DuplicateClientOrderId", "OrderBook"]
