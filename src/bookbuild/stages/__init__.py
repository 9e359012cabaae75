"""The stages a book goes through, in order: assemble, read, transform, write, compile.

Each stage is a module with functions a test can call alone; :mod:`bookbuild.pipeline`
joins read's output through transform and write, :mod:`bookbuild.build` runs them all.
"""
