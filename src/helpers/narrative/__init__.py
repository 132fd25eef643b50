"""German sentences generated from analysis results (one module per chapter).

Every function returns Markdown. Wording adapts to the numbers; no sentence may be
false for some client (e.g. never say "mehr" when the value is smaller). The shared guards –
counts with number agreement and the audience's words, shares that never round to a false
"0 %", minimum group sizes, "nicht berechenbar" for missing inputs – live in
:mod:`helpers.narrative.common`; the words for Privat- and Firmenkunden come from
:func:`helpers.labels.audience_terms`, the term list from :mod:`helpers.terms`.
"""
