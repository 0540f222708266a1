"""Every store test that opens a database runs on both engines: the behaviour is the same."""

from tests.postgres import each_engine

__all__ = ["each_engine"]
