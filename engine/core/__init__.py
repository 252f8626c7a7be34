"""The engine's pure vocabulary: types, symbol rules, reports, events and client order ids."""
