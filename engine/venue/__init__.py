"""The venue port: everything that talks to Binance (or the embedded exchange) lives here."""
