"""Pure analysis functions: DataFrame in, result out. No I/O, no plotting."""
