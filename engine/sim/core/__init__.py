"""The embedded exchange's pure core: deterministic given a seed and an injected clock, no I/O."""
