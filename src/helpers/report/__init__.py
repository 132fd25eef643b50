"""Report pipeline: client-facing display objects, notebook execution, assembly, rendering.

- ``display``: ``show_text`` / ``show_table`` / ``md_escape`` used in chapter notebooks;
- ``execute``: chapters run in one shared kernel with papermill-style parameter injection;
- ``assemble``: executed notebooks -> one pandoc Markdown document (inclusion rules);
- ``render``: Markdown -> PDF with pandoc + Typst (or Quarto), written atomically;
- ``brand``, ``escape``, ``slug``: brand file with installed fonts, escaping, safe folder names;
- ``pipeline.build_report``: everything above for one client.
"""
