"""The one notebook -> PDF stack, used by the client report and the course handouts.

- ``display``: ``show_text`` / ``show_table`` / ``md_escape`` used in chapter notebooks;
- ``execute``: the one executor – chapters run in one shared ``kundenwert`` kernel with
  papermill-style parameter injection (report) or their default parameters (handouts);
- ``assemble``: executed notebooks -> one pandoc Markdown document; an ``AssemblyPolicy`` says
  what is shown (``REPORT``: no code, no course material; handouts: code, teaching, exercises);
- ``render``: Markdown -> PDF with pandoc + Typst (or Quarto) in a layout (``report`` or
  ``handout``, Typst templates in ``reports/template/`` sharing ``brand.yml``), written atomically;
  ``ENGINES`` is the one list of PDF engines;
- ``brand``, ``escape``, ``slug``: brand file with installed fonts, escaping, safe folder names;
- ``pipeline.build_report``: load, compute all chapters once, execute, assemble, render for one client.
"""
