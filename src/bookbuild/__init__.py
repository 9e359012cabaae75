"""bookbuild: a book of Markdown chapters -> pandoc -> LaTeX -> a printable PDF."""

__version__ = "0.1.0"
