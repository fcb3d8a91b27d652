"""The team server: the operations of :mod:`pricing.operations` over HTTP, for signed-in people."""
