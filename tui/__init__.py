"""The desk: the Textual operator interface, a client of the engine (`tui.app.DeskApp`)."""
