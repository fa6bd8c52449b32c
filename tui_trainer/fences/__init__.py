"""Fences: the private names of the libraries tui-trainer depends on, one module per library
(``textual``, ``textual_plotext``, ``plotext``, ``torch``), each reached only in its module here.

Each module lists what it reaches and has ``missing()``, which names what the installed version
no longer has; ``tests/unit_tests/test_fences.py`` fails naming each one an upgrade removes, and
checks that no other module reaches a private name of a library. This package imports nothing:
the engine imports ``fences.torch`` without any UI library.
"""
