"""The desk's widgets: each reads a `DeskState` and does no I/O."""
