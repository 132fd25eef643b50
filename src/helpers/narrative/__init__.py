"""German sentences generated from analysis results (one module per chapter).

Every function returns Markdown. Wording adapts to the numbers; no sentence may be
false for some client (e.g. never say "mehr" when the value is smaller).
"""
