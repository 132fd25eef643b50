"""Report pipeline: client-facing display objects, notebook execution, assembly, rendering."""
