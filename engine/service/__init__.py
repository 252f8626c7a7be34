"""The engine service: the engine process, its control socket and the client interface."""
