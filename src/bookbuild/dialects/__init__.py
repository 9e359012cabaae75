"""What bookdown, Quarto and GitBook/HonKit books need before pandoc reads them, and from
their settings.

The rest of their dialect (cross-references, callouts, shortcodes, cells) is handled on the
AST by ``filters/quarto.py`` and ``filters/bookdown.py``.
"""
