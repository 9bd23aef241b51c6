"""Read uploaded files into site records."""
