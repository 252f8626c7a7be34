"""The embedded exchange's wire server: Binance's REST API, WebSocket API and streams, admin."""
